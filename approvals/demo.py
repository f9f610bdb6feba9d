"""The demo village's 決裁: requests at every stage, made through the approval service.

Sent ``demo_village_created``, this installs the bundled route templates (always) and, for a lived-in
village, a 合議 route and the requests below: pending in 係長 and 課長 inboxes, sent back with a
reason, a 合議 under way, decided ones (signed, seal-stamped PDFs that docsearch files into 文書), a
代決 whose 後閲 is waiting, a draft, and two people 不在 today.  Every step goes through
``service.create`` / ``service.act`` with an explicit past ``at`` (the service takes one), so
numbering, seals, signing and filing are the real ones; only the dates are the demo's.  The texts are
written for the demo.  A second run finds the first request and adds nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from approvals import absence, route_store, service
from approvals.models import ApprovalRequest
from workspace import calendar, db, directory

#: 企画財政課 and 会計課 are consulted (合議) on works and contracts of the other 課.
JOINT_ROUTE = {
    "key": "joint",
    "name": "工事・委託（財政・会計合議）",
    "number_format": "{dept_prefix}第{n}号",
    "number_at": "decision",
    "steps": [
        {"kind": "review", "approver": {"relation": "section_chief"}, "optional": True},
        {"kind": "review", "approver": {"relation": "department_head"}},
        {
            "kind": "consult",
            "mode": "all",
            "approvers": [{"department": "02", "title": "課長"}, {"department": "08", "title": "課長"}],
        },
        {
            "kind": "decide",
            "authority": [
                {"max_amount": 500000, "approver": {"relation": "department_head"}, "label": "課長専決"},
                {"max_amount": 5000000, "approver": {"title": "副村長"}},
                {"approver": {"title": "村長"}},
            ],
        },
    ],
}


@dataclass(frozen=True)
class Step:
    """One action: who, what, when (workdays before today, hour, minute), with a comment."""

    actor: str
    action: str
    days_ago: int
    hour: int
    minute: int = 0
    comment: str | None = None


@dataclass(frozen=True)
class Story:
    """A request of the demo: its content, its submission and what happened to it since."""

    drafter: str
    route: str
    title: str
    body: str
    submitted: tuple[int, int, int] | None  # (workdays ago, hour, minute); None: still a 下書き
    amount: int | None = None
    retention_years: int | None = 5
    steps: tuple[Step, ...] = field(default_factory=tuple)


def _body(purpose: str, *points: str) -> str:
    lines = ["標記の件について、下記のとおり実施してよろしいか伺います。", "", "記", "", f"1 目的　{purpose}"]
    lines += [f"{n} {p}" for n, p in enumerate(points, start=2)]
    return "\n".join(lines)


STORIES: tuple[Story, ...] = (
    Story(
        "yamada",
        "general",
        "住民票コンビニ交付の利用促進チラシの作成について",
        _body(
            "住民票等のコンビニ交付の利用を広げ、窓口の混雑を和らげる。",
            "作成部数　2,000部（全戸配布）",
            "配布時期　1月の村報と同時",
        ),
        (1, 10, 5),
        amount=0,
        retention_years=3,
    ),
    Story(
        "sasaki",
        "general",
        "窓口受付番号表示システムの保守契約の更新について",
        _body(
            "住民課窓口の受付番号表示システムを引き続き安定して運用する。", "契約期間　令和9年4月1日から1年間"
        ),
        (3, 9, 40),
        amount=0,
        steps=(Step("yoshida", "approve", 2, 14, 10),),
    ),
    Story(
        "takahashi",
        "general",
        "庁舎案内表示の更新について",
        _body(
            "来庁者に分かりやすい案内とするため、1階の案内表示を更新する。",
            "更新箇所　正面玄関、エレベーター前",
        ),
        (1, 11, 0),
        amount=0,
        retention_years=3,
    ),
    Story(
        "watanabe",
        "general",
        "職員向け情報セキュリティ研修の実施について",
        _body(
            "標的型メールへの対応力を高める。",
            "対象　全職員",
            "日時　1月20日（水）14時から",
            "会場　大会議室",
        ),
        (4, 9, 15),
        amount=0,
        steps=(Step("ito", "approve", 3, 16, 30),),
    ),
    Story(
        "yamada",
        "general",
        "住民票等の写しの交付手数料の見直しについて",
        _body("コンビニ交付との均衡を図るため、窓口交付手数料を見直す。", "改定案　1通300円を250円とする"),
        (6, 10, 0),
        amount=0,
        retention_years=10,
        steps=(
            Step("yoshida", "approve", 5, 13, 20),
            Step("kato", "send_back", 2, 15, 45, "手数料の積算根拠と、近隣町村との比較を添付してください。"),
        ),
    ),
    Story(
        "inoue",
        "general",
        "納税通知書の封入封緘業務の委託について",
        _body("納税通知書の発送事務を効率化する。", "委託予定額　280,000円", "見積徴取　1社"),
        (4, 14, 0),
        amount=280000,
        steps=(
            Step(
                "matsumoto",
                "send_back",
                3,
                10,
                30,
                "見積書が1社分しかありません。2社以上から徴取してください。",
            ),
        ),
    ),
    Story(
        "ishikawa",
        "joint",
        "村道3号線舗装補修工事の施行について",
        _body(
            "路面のひび割れと段差を解消し、通行の安全を確保する。",
            "工事箇所　村道3号線（延長420m）",
            "工期　契約の翌日から90日間",
        ),
        (4, 9, 30),
        amount=3800000,
        retention_years=10,
        steps=(
            Step("hashimoto", "approve", 4, 13, 0),
            Step("ikeda", "approve", 3, 10, 0),
            Step("tanaka", "approve", 1, 15, 0, "財源は道路維持補修費で対応可能です。"),
        ),
    ),
    Story(
        "yamada",
        "general",
        "マイナンバーカード休日交付窓口の開設について",
        _body(
            "平日に来庁できない方のため、休日に交付窓口を開設する。",
            "日時　毎月第2日曜日　9時から12時",
            "従事職員　住民課2名",
        ),
        (15, 9, 0),
        amount=0,
        steps=(Step("yoshida", "approve", 14, 11, 0), Step("kato", "approve", 13, 16, 0)),
    ),
    Story(
        "abe",
        "joint",
        "有害鳥獣捕獲業務の委託について",
        _body(
            "農作物被害を減らすため、猟友会に捕獲業務を委託する。",
            "委託先　榛東村猟友会",
            "委託期間　1月から3月まで",
        ),
        (12, 9, 30),
        amount=2400000,
        steps=(
            Step("mori", "approve", 12, 14, 0),
            Step("yamazaki", "approve", 11, 10, 0),
            Step("tanaka", "approve", 10, 11, 0),
            Step("ogawa", "approve", 10, 15, 0),
            Step("fukusoncho", "approve", 9, 10, 30),
        ),
    ),
    Story(
        "takahashi",
        "personnel",
        "会計年度任用職員の任用について",
        _body(
            "窓口業務の繁忙期に対応するため、会計年度任用職員を任用する。",
            "任用期間　1月4日から3月31日まで",
            "人数　1名（住民課）",
        ),
        (10, 9, 0),
        retention_years=30,
        steps=(
            Step("sato", "approve", 10, 13, 0),
            Step("fukusoncho", "approve", 9, 9, 30),
            Step("soncho", "approve", 8, 11, 0),
        ),
    ),
    Story(
        "shimizu",
        "general",
        "特定健康診査の受診勧奨はがきの送付について",
        _body("特定健康診査の受診率を高める。", "対象　未受診者 約480名", "送付時期　12月上旬"),
        (9, 10, 0),
        amount=0,
        steps=(Step("hayashi", "approve", 8, 9, 40), Step("kimura", "approve", 8, 15, 20)),
    ),
    Story(
        "kondo",
        "general",
        "成人式記念品の購入について",
        _body("成人式の出席者に記念品を贈る。", "数量　85個", "予定額　150,000円"),
        (8, 9, 20),
        amount=150000,
        steps=(Step("murakami", "approve", 7, 10, 0), Step("fukusoncho", "approve", 6, 14, 0)),
    ),
    Story(
        "okada",
        "general",
        "例月出納検査資料の作成について",
        _body("11月分の例月出納検査に備える。", "検査日　12月下旬", "資料　現金出納簿、預金残高証明書"),
        (6, 9, 0),
        amount=0,
        retention_years=3,
        steps=(Step("goto", "approve", 5, 10, 0), Step("ogawa", "approve", 5, 14, 30)),
    ),
    # 副村長 is away (see ABSENCES): 総務課長 decides for her (代決) and she reads it afterwards (後閲).
    Story(
        "kobayashi",
        "general",
        "ふるさと納税返礼品の追加について",
        _body(
            "村の特産品の魅力を広め、寄附を増やす。",
            "追加品目　上州牛の切り落とし、榛東村産ぶどう",
            "謝礼額　寄附額の3割以内",
        ),
        (2, 9, 0),
        amount=300000,
        steps=(
            Step("yamamoto", "approve", 2, 11, 0),
            Step("sato", "deputy_approve", 1, 10, 0, "副村長出張中のため代決"),
        ),
    ),
    Story(
        "shimizu",
        "general",
        "高齢者見守り協定の締結について",
        _body("新聞販売店、郵便局と高齢者の見守りに関する協定を結ぶ。", "協定先　3事業者"),
        (2, 13, 0),
        amount=0,
        steps=(Step("hayashi", "approve", 1, 9, 30),),
    ),
    Story(
        "inoue",
        "general",
        "固定資産税の縦覧期間の周知について",
        _body("縦覧制度を周知し、納税者の確認の機会を確保する。", "周知方法　村報、ホームページ"),
        (0, 9, 10),
        amount=0,
        retention_years=3,
    ),
    # More of 住民課 and 総務課, whose 課長 and 係長 are the logins the README names.
    Story(
        "sasaki",
        "general",
        "窓口の混雑状況調査の実施について",
        _body("曜日と時間帯ごとの待ち時間を把握し、窓口の配置を見直す。", "期間　12月7日から2週間"),
        (2, 10, 20),
        amount=0,
        retention_years=3,
        steps=(Step("yoshida", "approve", 1, 13, 40),),
    ),
    Story(
        "sasaki",
        "general",
        "住民基本台帳の閲覧申出への対応について",
        _body(
            "閲覧申出の審査基準を明確にし、個人情報を適正に保護する。", "対象　統計調査・学術研究目的の申出"
        ),
        (20, 9, 30),
        amount=0,
        retention_years=10,
        steps=(Step("yoshida", "approve", 19, 10, 0), Step("kato", "approve", 18, 14, 0)),
    ),
    Story(
        "yamada",
        "general",
        "転入者向け案内冊子の改訂について",
        _body(
            "転入の手続きと村の暮らしの案内を一冊にまとめ直す。", "作成部数　500部", "配布場所　住民課窓口"
        ),
        (11, 9, 10),
        amount=0,
        retention_years=3,
        steps=(Step("yoshida", "approve", 10, 15, 0), Step("kato", "approve", 9, 10, 15)),
    ),
    Story(
        "yamada",
        "general",
        "戸籍届出の休日預かり体制について",
        _body("休日の届出を宿直で預かる際の手順を定める。", "対象　出生届、死亡届、婚姻届"),
        (0, 9, 0),
        amount=0,
        retention_years=10,
    ),
    Story(
        "takahashi",
        "general",
        "公用車の運行記録の電子化について",
        _body("紙の運行日誌をやめ、共有の表で記録する。", "対象　公用車8台", "開始　1月5日から"),
        (3, 9, 0),
        amount=0,
        retention_years=3,
        steps=(Step("suzuki", "approve", 2, 11, 30),),
    ),
    Story(
        "watanabe",
        "general",
        "庁内無線LANアクセスポイントの増設について",
        _body(
            "会議室でのペーパーレス会議を可能にする。", "増設台数　4台", "設置場所　大会議室、第1・第2会議室"
        ),
        (16, 9, 30),
        amount=0,
        steps=(Step("ito", "approve", 15, 14, 0), Step("sato", "approve", 14, 10, 0)),
    ),
    Story(
        "takahashi",
        "general",
        "議会定例会の会議録作成業務について",
        _body("12月定例会の会議録を期限までに作成する。", "方式　音声認識による原稿作成と職員の校正"),
        (7, 13, 0),
        amount=0,
        steps=(Step("suzuki", "approve", 6, 10, 0), Step("sato", "approve", 5, 16, 0)),
    ),
    Story(
        "yamada",
        "general",
        "窓口アンケートの実施について",
        _body("窓口サービスの満足度を把握する。", "期間　1月中", "方法　記入用紙とオンライン"),
        None,
        amount=0,
        retention_years=1,
    ),
)

#: 文書分類 of the requests (the 小分類 names of the demo's 分類 table in docs/demo-sources.md).
CLASSIFICATIONS = {
    "マイナンバーカード休日交付窓口の開設について": "個人番号カード",
    "有害鳥獣捕獲業務の委託について": "有害鳥獣対策",
    "会計年度任用職員の任用について": "職員の任免",
    "特定健康診査の受診勧奨はがきの送付について": "健康診査",
    "成人式記念品の購入について": "生涯学習・イベント",
    "例月出納検査資料の作成について": "例月出納検査",
    "村道3号線舗装補修工事の施行について": "工事施行",
    "住民基本台帳の閲覧申出への対応について": "個人情報保護",
    "転入者向け案内冊子の改訂について": "住民異動届",
    "庁内無線LANアクセスポイントの増設について": "情報化推進",
    "職員向け情報セキュリティ研修の実施について": "職員研修",
    "住民票等の写しの交付手数料の見直しについて": "例規・条例",
    "戸籍届出の休日預かり体制について": "戸籍届書",
    "住民票コンビニ交付の利用促進チラシの作成について": "証明書交付",
    "窓口の混雑状況調査の実施について": "証明書交付",
    "固定資産税の縦覧期間の周知について": "固定資産税",
    "高齢者見守り協定の締結について": "高齢者福祉",
    "納税通知書の封入封緘業務の委託について": "収納管理",
}

#: (who, deputy, first day as workdays ago, last day as days after today, note) — 不在 today.
ABSENCES = (
    ("fukusoncho", "sato", 2, 1, "県外出張（東京）"),
    ("kimura", "hayashi", 0, 0, "年次休暇"),
)


def on_demo_village_created(_sender: Any = None, **kwargs: Any) -> None:
    """Receiver of ``demo_village_created``: default routes always; a lived-in village's 決裁 once."""
    route_store.install_defaults()
    if kwargs.get("lived_in"):
        build()


def _workdays(today: dt.date) -> list[dt.date]:
    days, day = [], today
    while len(days) < 30:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days  # [0] is today (or the last workday), [n] n workdays before


def _user(username: str) -> Any:
    user = directory.get_user(username)
    if user is None:
        raise LookupError(f"demo person {username} is missing")
    return user


def build(now: dt.datetime | None = None) -> int:
    """Create the demo requests and absences unless the first request exists; return how many were made."""
    now = now or calendar.now()
    first = STORIES[0]
    done = (
        db.session().execute(select(ApprovalRequest.id).where(ApprovalRequest.title == first.title)).first()
    )
    if done:
        return 0
    if route_store.latest(JOINT_ROUTE["key"]) is None:
        route_store.save(JOINT_ROUTE, None)
    days = _workdays(calendar.to_jst(now).date())

    def at(days_ago: int, hour: int, minute: int) -> dt.datetime:
        moment = dt.datetime.combine(days[days_ago], dt.time(hour, minute), calendar.JST)
        # Run before office hours, "today" would lie ahead: keep every act in the past, in order.
        latest = now - dt.timedelta(minutes=30 - minute // 2)
        return min(moment, latest)

    admin = _user("admin")
    today = calendar.to_jst(now).date()
    for who, deputy, first_day, last_day, note in ABSENCES:
        absence.register(
            admin,
            {
                "user": who,
                "deputy": deputy,
                "from": days[first_day].isoformat(),
                "until": (today + dt.timedelta(days=last_day)).isoformat(),
                "note": note,
            },
        )
    for story in STORIES:
        data = {
            "route": story.route,
            "title": story.title,
            "body": story.body,
            "amount": story.amount,
            "retention_years": story.retention_years,
            "classification": CLASSIFICATIONS.get(story.title),
        }
        drafter = _user(story.drafter)
        if story.submitted is None:
            service.create(drafter, data, at(0, 8, 45))
            continue
        row = service.create(drafter, {**data, "submit": True}, at(*story.submitted))
        for step in story.steps:
            service.act(
                _user(step.actor),
                row.id,
                step.action,
                comment=step.comment,
                at=at(step.days_ago, step.hour, step.minute),
            )
    return len(STORIES)
