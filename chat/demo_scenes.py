"""What the demo village says in chat: scenes written for the demo (no outside text).

A scene is a few messages: the first opens it in the channel, the others reply in its thread
(``reply=True``) or follow in the channel.  Mentions use the product's ``@username`` syntax.
Department channels get the same kinds of scene with each 課's own topics and people; the public
channels, DMs and group DMs have scenes of their own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from workspace import demo as village


@dataclass(frozen=True)
class Line:
    """One message of a scene."""

    author: str
    body: str
    reply: bool = True  # in the thread of the scene's first message
    after: int | None = None  # minutes after the previous line (None: a few, chosen by the seed)
    reactions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Scene:
    """A short exchange on one day (``days_ago`` workdays before today; None: any day)."""

    lines: tuple[Line, ...]
    days_ago: int | None = None
    minute: int | None = None  # minutes after 8:30


@dataclass(frozen=True)
class ChannelSpec:
    """A channel of the demo: its name (empty for DMs), members (the first creates it) and scenes."""

    name: str
    members: tuple[str, ...]
    scenes: tuple[Scene, ...] = field(default_factory=tuple)


def S(days_ago: int | None, *lines: Line, minute: int | None = None) -> Scene:  # noqa: N802 - data shorthand
    """A scene (shorthand for the tables below)."""
    return Scene(tuple(lines), days_ago, minute)


L = Line

# Per 課: (topics, the outside meeting its head attends, the system it works in).
DEPARTMENT_TOPICS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "01": (
        ("議会定例会の答弁資料", "職員研修の日程", "庁舎の消防設備点検", "例規集の更新"),
        "町村会の担当課長会議",
        "文書管理システム",
    ),
    "02": (
        ("来年度予算の要求状況", "総合計画の進捗管理", "ふるさと納税の返礼品", "普通交付税の算定"),
        "県の財政ヒアリング",
        "財務会計システム",
    ),
    "03": (
        ("転入手続きの案内", "マイナンバーカードの交付予約", "戸籍の附票の通知", "窓口の混雑対策"),
        "県の戸籍事務研修",
        "住民記録システム",
    ),
    "04": (
        ("固定資産税の評価替え", "住民税の申告相談", "滞納整理の進め方", "軽自動車税の減免"),
        "税務協議会",
        "税務システム",
    ),
    "05": (
        ("特定健診の受診勧奨", "高齢者の見守り", "国保の保険証の更新", "子育て支援の案内"),
        "保健福祉事務所の連絡会議",
        "健康管理システム",
    ),
    "06": (
        ("農地の利用調整", "ふるさとまつりの準備", "商工会との打合せ", "有害鳥獣対策"),
        "農業委員会",
        "農地台帳システム",
    ),
    "07": (
        ("村道の補修工事", "橋梁点検の結果", "除雪計画", "水道管の漏水調査"),
        "土木事務所との協議",
        "道路台帳システム",
    ),
    "08": (
        ("支払処理の締め", "例月出納検査", "公金の収納状況", "決算統計の準備"),
        "指定金融機関との打合せ",
        "財務会計システム",
    ),
    "09": (
        ("学校給食の献立", "就学援助の申請", "文化財の調査", "成人式の準備"),
        "県教育委員会の説明会",
        "学務システム",
    ),
}


def surname(username: str) -> str:
    """Return a demo person's 姓 (加藤 for kato): people write 「加藤さん」, never a login ID."""
    for _code, _name, _prefix, staff in village.VILLAGE:
        for login, display_name, _title, _section in staff:
            if login == username:
                return display_name.split()[0]
    for login, display_name, _title in village.EXECUTIVES:
        if login == username:
            return display_name.split()[0]
    return "管理" if username == "admin" else username


def department_scenes(
    topics: tuple[tuple[str, ...], str, str], staff: list[tuple[str, str]], rng: random.Random
) -> list[Scene]:
    """Return a 課 channel's scenes: staff is [(username, title)] of the 課 (head, 係長, 主事 …)."""
    subjects, meeting, system = topics
    heads = [u for u, t in staff if t in ("課長", "事務局長")]
    chiefs = [u for u, t in staff if t == "係長"]
    workers = [u for u, t in staff if t not in ("課長", "事務局長", "係長")]
    head = heads[0] if heads else staff[0][0]
    chief = chiefs[0] if chiefs else head
    w = workers[0] if workers else chief
    w2 = workers[1] if len(workers) > 1 else chief
    t = list(subjects)
    rng.shuffle(t)
    scenes = [
        S(
            19,
            L(
                head,
                "今月の課内の予定を共有フォルダの予定表に入れました。出張や休暇の予定がある方は追記をお願いします。",
                reactions=((w, "✅"), (w2, "✅"), (chief, "👍")),
            ),
            minute=10,
        ),
        S(
            16,
            L(w, f"{t[3]}について、近隣の町村の例を調べました。要点を一枚にまとめたので回覧します。"),
            L(
                head,
                "よくまとまっています。人口規模の近い町村の例は参考になりますね。",
                reactions=((w, "🙇"),),
            ),
            L(chief, "来年度の進め方を考えるときの資料にしましょう。"),
        ),
        S(
            11,
            L(
                chief,
                "正面の来客用駐車場が舗装工事で今週いっぱい半分使えません。来庁された方への案内をお願いします。",
            ),
            L(w2, "窓口に案内の貼り紙を出しておきます。", reactions=((chief, "🙏"),)),
            minute=15,
        ),
        S(
            17,
            L(
                w,
                f"{t[0]}の資料案を共有フォルダに置きました。"
                f"@{chief} さん、お手すきの際にご確認をお願いします。",
                reactions=((head, "👀"),),
            ),
            L(chief, "確認しました。2ページ目の表、前年度の数字が古いままなので差し替えをお願いします。"),
            L(w, "失礼しました。差し替えて同じ場所に上書きしました。", reactions=((chief, "👍"),)),
            L(chief, "ありがとうございます。これで課長に回してください。"),
        ),
        S(
            14,
            L(
                head,
                f"本日は午後から{meeting}のため不在にします。急ぎの件は{surname(chief)}さんに相談してください。",
                reactions=((w, "👍"), (w2, "👍"), (chief, "🙇")),
            ),
            L(w2, "承知しました。お気をつけて。", reply=False),
            minute=20,
        ),
        S(
            12,
            L(
                w,
                f"住民の方から{t[1]}について電話でお問い合わせがありました。折り返しのお約束をしています。"
                "以前の回答例をご存じの方はいらっしゃいますか。",
            ),
            L(chief, "昨年度の回答例が簿冊に綴ってあります。文書の検索で件名を入れると出てきますよ。"),
            L(w, "見つかりました。助かります。", reactions=((chief, "😊"),)),
        ),
        S(
            10,
            L(
                chief,
                f"@channel {t[2]}の提出期限は今週金曜日です。まだの方は木曜日中に私まで提出をお願いします。",
                reactions=((w, "✅"), (w2, "✅"), (head, "👍")),
            ),
            minute=5,
        ),
        S(
            8,
            L(
                head,
                f"来週の課内会議で{t[3]}の進め方を確認します。各自、現状と課題を一言ずつ用意しておいてください。",
            ),
            L(w, "承知しました。会議室は第2会議室を押さえておきます。"),
            L(head, "ありがとう。火曜日の10時からでお願いします。", reactions=((w, "👍"),)),
        ),
        S(
            6,
            L(
                w2,
                "昨日の窓口応援、ありがとうございました。おかげで待ち時間がだいぶ短くなりました。",
                reactions=((w, "😊"), (chief, "🙏"), (head, "👍")),
            ),
        ),
        S(
            4,
            L(w, f"{system}の動きが少し重いようです。ほかの方も同じでしょうか。"),
            L(w2, "こちらも遅いです。情報政策係に連絡しておきます。"),
            L(w, "復旧したそうです。ご対応ありがとうございました。", after=35, reactions=((w2, "👍"),)),
        ),
        S(
            2,
            L(
                w2,
                f"明日は年休をいただきます。{t[0]}の件は{surname(w)}さんに引き継いでいます。よろしくお願いします。",
                reactions=((head, "👍"), (w, "✅")),
            ),
            minute=400,
        ),
        S(
            1,
            L(
                w,
                f"{t[1]}の起案を回しました。@{chief} さん、内容のご確認をお願いします。"
                "見積書は2社分を添付しています。",
            ),
            L(chief, "拝見します。今日中に回します。", reactions=((w, "🙇"),)),
            minute=90,
        ),
        S(
            0,
            L(
                chief,
                f"@{head} 課長、{t[2]}の件で県から回答がありました。"
                "おおむね当初案どおりで差し支えないとのことです。"
                "詳しくは回覧します。",
            ),
            L(w, f"@{chief} さん、回覧の前に私のほうで要点を一枚にまとめましょうか。"),
            minute=30,
        ),
    ]
    return scenes


EVERYONE = (
    "sato",
    "suzuki",
    "takahashi",
    "ito",
    "watanabe",
    "tanaka",
    "yamamoto",
    "nakamura",
    "kobayashi",
    "kato",
    "yoshida",
    "yamada",
    "sasaki",
    "yamaguchi",
    "matsumoto",
    "inoue",
    "kimura",
    "hayashi",
    "shimizu",
    "yamazaki",
    "mori",
    "abe",
    "ikeda",
    "hashimoto",
    "ishikawa",
    "ogawa",
    "goto",
    "okada",
    "hasegawa",
    "murakami",
    "kondo",
    "soncho",
    "fukusoncho",
    "admin",
)

PUBLIC = (
    ChannelSpec(
        "庁内お知らせ",
        EVERYONE,
        (
            S(
                19,
                L(
                    "suzuki",
                    "@channel 庁舎の消防設備点検を来週木曜日の9時から行います。"
                    "点検中に非常ベルが鳴ることがありますが、"
                    "訓練ではなく点検ですので、窓口のお客様にもそのようにご案内ください。",
                    reactions=(("sato", "👍"), ("kato", "✅"), ("ikeda", "✅"), ("yamada", "👀")),
                ),
            ),
            S(
                15,
                L(
                    "ito",
                    "【情報政策係】職員ポータルのパスワード変更をお願いします。今月末までに、12文字以上の新しいものに変えてください。",
                ),
                L("yamada", "変更の画面はどこから開けばよいでしょうか。"),
                L(
                    "ito",
                    "画面右上のお名前からパスワード変更を選ぶと開けます。わからないときは内線210までどうぞ。",
                    reactions=(("yamada", "🙏"),),
                ),
                L("sasaki", "できました。ありがとうございます。", reactions=(("ito", "👍"),)),
            ),
            S(
                11,
                L(
                    "sato",
                    "年末年始の閉庁は12月29日から1月3日までです。窓口の当番表は各課で作成し、"
                    "12月18日までに総務課へ提出をお願いします。",
                    reactions=(("tanaka", "👍"), ("kato", "👍"), ("kimura", "✅")),
                ),
            ),
            S(
                7,
                L(
                    "tanaka",
                    "@channel 来年度予算要求の締切は12月18日です。新規事業は事業調書を必ず添付してください。",
                ),
                L("kato", "住民課は17日に提出します。"),
                L("ikeda", "建設課は工事費の見積りがそろい次第提出します。18日の午前中になる見込みです。"),
                L(
                    "tanaka",
                    "承知しました。遅れる場合は前日までにご連絡ください。",
                    reactions=(("ikeda", "🙇"),),
                ),
            ),
            S(
                3,
                L(
                    "ito",
                    "本日17時から30分間、庁内ネットワークの保守作業を行います。その間はチャットと文書検索が使えません。",
                    reactions=(("sato", "👍"), ("watanabe", "✅")),
                ),
                minute=60,
            ),
            S(
                0,
                L(
                    "suzuki",
                    "忘れ物のお知らせです。第1会議室に黒い折りたたみ傘がありました。総務課の窓口でお預かりしています。",
                    reactions=(("yamada", "👀"),),
                ),
                minute=45,
            ),
        ),
    ),
    ChannelSpec(
        "DX推進プロジェクト",
        (
            "ito",
            "watanabe",
            "nakamura",
            "yamada",
            "sasaki",
            "tanaka",
            "sato",
            "admin",
            "kobayashi",
            "okada",
            "takahashi",
        ),
        (
            S(
                16,
                L(
                    "ito",
                    "「書かない窓口」の試行について、住民課の窓口で申請書の記入項目を洗い出しました。"
                    "重複している項目が思ったより多いです。",
                ),
                L(
                    "yamada",
                    "転入のときは同じ住所を4回書いていただいていました。まずそこから減らしたいです。",
                ),
                L(
                    "nakamura",
                    "国の標準様式に合わせると、さらに2項目減らせそうです。",
                    reactions=(("ito", "👍"),),
                ),
            ),
            S(
                12,
                L(
                    "watanabe",
                    "RPAの試行で、毎月の統計表の転記が手作業で2時間かかっていたのが10分で終わりました。",
                    reactions=(("tanaka", "🎉"), ("ito", "🎉"), ("kobayashi", "👍")),
                ),
                L(
                    "tanaka",
                    "すばらしいですね。ほかの課でも使えそうな作業を次回の会議で挙げてもらいましょう。",
                ),
            ),
            S(
                9,
                L("kobayashi", "オンライン申請の件数、先月は62件でした。半分以上が夜間と休日の申請です。"),
                L("sato", "窓口が開いていない時間の需要がはっきりしましたね。村報でも紹介しましょう。"),
            ),
            S(
                5,
                L(
                    "ito",
                    "電子決裁に切り替えて1か月、皆さんの感想を集めています。良かった点、困った点を気軽に書いてください。",
                ),
                L("takahashi", "出張先でも決裁の状況が見られるのが助かります。"),
                L("okada", "添付ファイルのハッシュ値の意味を、会計課の中で説明できるようになりたいです。"),
                L(
                    "admin",
                    "説明資料を作ります。来週の研修でも取り上げますね。",
                    reactions=(("okada", "🙏"),),
                ),
            ),
            S(
                1,
                L(
                    "nakamura",
                    "@ito さん、ペーパーレス会議のタブレット、来週の課長会議で使ってみてもよいでしょうか。",
                ),
                L("ito", "大丈夫です。前日に充電しておきます。", reactions=(("nakamura", "🙇"),)),
                minute=200,
            ),
        ),
    ),
    ChannelSpec(
        "防災・災害対応",
        (
            "sato",
            "suzuki",
            "ikeda",
            "hashimoto",
            "ishikawa",
            "kimura",
            "hayashi",
            "kato",
            "tanaka",
            "yamazaki",
            "fukusoncho",
        ),
        (
            S(
                18,
                L("suzuki", "大雨警報が出ました。警戒レベル3に備えて、総務課は17時以降も待機します。"),
                L("ikeda", "建設課は村道の冠水しやすい3か所を巡回します。"),
                L("kimura", "避難行動要支援者の名簿を確認しました。健康福祉課も待機します。"),
                L(
                    "suzuki",
                    "21時に警報が解除されました。皆さんお疲れさまでした。",
                    after=240,
                    reactions=(("ikeda", "🙇"), ("kimura", "🙇"), ("sato", "👍")),
                ),
            ),
            S(
                10,
                L(
                    "sato",
                    "総合防災訓練の振り返りです。避難所の開設に40分かかりました。次回は30分以内を目標にします。",
                ),
                L(
                    "hashimoto",
                    "鍵の保管場所が分かりにくかったので、開設手順書に写真を入れます。",
                    reactions=(("sato", "👍"),),
                ),
            ),
            S(
                3,
                L("ishikawa", "備蓄倉庫の点検をしました。飲料水の一部が来年3月で期限切れになります。"),
                L(
                    "suzuki",
                    "入れ替えの予算を要求に入れておきます。期限の近いものは訓練で配りましょう。",
                    reactions=(("ishikawa", "✅"),),
                ),
            ),
        ),
    ),
    ChannelSpec(
        "お昼・雑談",
        (
            "yamada",
            "sasaki",
            "takahashi",
            "watanabe",
            "kobayashi",
            "nakamura",
            "shimizu",
            "abe",
            "okada",
            "kondo",
            "ishikawa",
            "inoue",
        ),
        (
            S(
                13,
                L(
                    "abe",
                    "道の駅の新しいお弁当、まいたけご飯がおいしかったです。",
                    reactions=(("sasaki", "😊"), ("kondo", "👀")),
                ),
            ),
            S(
                8,
                L("kobayashi", "忘年会の出欠を今週中に教えてください。会場は公民館近くのいつものお店です。"),
                L("yamada", "参加します。"),
                L("okada", "参加します。少し遅れて行きます。"),
                L(
                    "shimizu",
                    "すみません、当日は健診の片付けがあるので欠席します。",
                    reactions=(("kobayashi", "🙏"),),
                ),
            ),
            S(
                4,
                L(
                    "kondo",
                    "庁舎前のもみじがきれいに色づいています。お昼に少し歩いてみてください。",
                    reactions=(("yamada", "😊"), ("takahashi", "👍"), ("watanabe", "😊")),
                ),
            ),
            S(
                0,
                L(
                    "inoue",
                    "税務課に差し入れのみかんがあります。ご自由にどうぞ。",
                    reactions=(("abe", "🙏"), ("yamada", "🙏")),
                ),
                minute=210,
            ),
        ),
    ),
)

DIRECT = (
    ChannelSpec(
        "",
        ("sato", "suzuki"),
        (
            S(
                6,
                L("sato", "議会の一般質問の答弁案、明日の朝までに目を通していただけますか。", reply=False),
                L("suzuki", "承知しました。夕方までに赤字を入れてお返しします。", reply=False),
            ),
            S(
                1,
                L("suzuki", "答弁案、修正しました。3問目の数字は企画財政課に確認済みです。", reply=False),
                L("sato", "ありがとう。これで副村長に上げます。", reply=False, reactions=(("suzuki", "🙇"),)),
            ),
        ),
    ),
    ChannelSpec(
        "",
        ("kato", "yamada"),
        (
            S(
                2,
                L(
                    "yamada",
                    "課長、差し戻しいただいた手数料の件、積算根拠をそろえて再提出します。",
                    reply=False,
                ),
                L(
                    "kato",
                    "よろしくお願いします。近隣の町村との比較表もあると分かりやすいです。",
                    reply=False,
                ),
                L(
                    "yamada",
                    "承知しました。渋川市と吉岡町の分を調べて付けます。",
                    reply=False,
                    reactions=(("kato", "👍"),),
                ),
            ),
        ),
    ),
    ChannelSpec(
        "",
        ("yamada", "yoshida"),
        (
            S(
                3,
                L("yamada", "明日の窓口当番、午前と午後を交換していただくことはできますか。", reply=False),
                L("yoshida", "大丈夫ですよ。私が午前に入ります。", reply=False),
                L(
                    "yamada",
                    "ありがとうございます。助かります。",
                    reply=False,
                    reactions=(("yoshida", "😊"),),
                ),
            ),
            S(
                0,
                L(
                    "yoshida",
                    "@yamada さん、午後の転入のお客様、書類が一部足りないそうなので先に連絡をお願いします。",
                    reply=False,
                ),
                minute=150,
            ),
        ),
    ),
    ChannelSpec(
        "",
        ("tanaka", "ogawa"),
        (
            S(
                1,
                L(
                    "tanaka",
                    "建設課の村道補修工事の合議、財政課としては問題ありません。会計課のご確認をお願いします。",
                    reply=False,
                ),
                L("ogawa", "承知しました。金額の内訳を確認してから回します。", reply=False),
            ),
        ),
    ),
    ChannelSpec(
        "",
        ("sato", "fukusoncho"),
        (
            S(
                1,
                L(
                    "sato",
                    "副村長、ご出張中の決裁は代決で進めております。お戻りの際に後閲をお願いいたします。",
                    reply=False,
                ),
                L("fukusoncho", "ありがとうございます。戻りましたら確認します。", reply=False),
            ),
        ),
    ),
)

GROUPS = (
    ChannelSpec(
        "",
        ("sato", "tanaka", "kato", "yamaguchi"),
        (
            S(
                9,
                L("sato", "来週の課長会議の議題、追加があれば金曜日までにお知らせください。", reply=False),
                L("kato", "窓口の年末年始体制をお願いします。", reply=False),
                L(
                    "yamaguchi",
                    "確定申告の会場の件を入れてください。",
                    reply=False,
                    reactions=(("sato", "👍"),),
                ),
            ),
        ),
    ),
    ChannelSpec(
        "",
        ("yamada", "sasaki", "takahashi", "watanabe"),
        (
            S(
                7,
                L("takahashi", "新規採用職員研修のレポート、締切は来週月曜日だそうです。", reply=False),
                L("sasaki", "まだ半分です……週末に仕上げます。", reply=False),
                L(
                    "watanabe",
                    "書き方に迷ったら見せ合いましょう。",
                    reply=False,
                    reactions=(("yamada", "👍"), ("sasaki", "🙏")),
                ),
            ),
            S(
                0,
                L("yamada", "今日のお昼、食堂に行く人いますか。", reply=False, reactions=(("sasaki", "🙋"),)),
                minute=175,
            ),
        ),
    ),
    ChannelSpec(
        "",
        ("ikeda", "hashimoto", "ishikawa", "tanaka"),
        (
            S(
                4,
                L(
                    "ishikawa",
                    "村道3号線の補修工事の起案を回しました。合議で企画財政課にもご確認いただきます。",
                    reply=False,
                ),
                L("hashimoto", "設計書の数量、私のほうで再確認しました。", reply=False),
                L(
                    "tanaka",
                    "財源は道路補修の予算で足ります。確認しておきます。",
                    reply=False,
                    reactions=(("ishikawa", "🙇"), ("ikeda", "👍")),
                ),
            ),
        ),
    ),
)
