"""The demo village's records: a 文書分類 table and about 300 registered documents of the last three 年度.

Sent ``demo_village_created`` with ``lived_in``, this registers everything through the registry service
(``registry.import_classifications``, ``registry.register``), so 保存期間満了日, audit entries, the file
store and the index are the real ones.  The texts are articles of Japanese statutes (not subject to
copyright, 著作権法第13条) picked from the project's corpus into ``demo_data/statutes.jsonl``, each under a
cover written for the demo; docs/demo-sources.md records where they come from.

The register stamps the present time; a document of 令和6年度 registered today would make every
"recent documents" list lie, so its ``created_at`` is set to its own date afterwards (see ``_backdate``).
The same seed and data give the same documents every time; a second run finds them and adds nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from docsearch import indexer, registry
from docsearch.models import ApprovalFiling, Classification, Document, DocumentVersion
from workspace import calendar, db, directory

DATA = Path(__file__).with_name("demo_data")
SEED = 20261203
DOCUMENTS = 300
# What each 課 files: (小分類 code, 件名 without the 年度).  The 1-year kinds of the oldest 年度 are past
# their 保存期間 by now, so the records staff's 満了 list has something to decide.
SUBJECTS: dict[str, list[tuple[str, str]]] = {
    "01": [
        ("010101", "榛東村文書管理規程の一部改正について"),
        ("010102", "文書の引継ぎ及び簿冊の整理について"),
        ("010103", "庁舎の使用に関する照会への回答について"),
        ("010201", "会計年度任用職員の任用について"),
        ("010202", "新規採用職員研修の実施について"),
        ("010203", "時間外勤務の縮減について（通知）"),
        ("010301", "榛東村地域防災計画の修正について"),
        ("010302", "総合防災訓練の実施について"),
        ("010103", "議会定例会の日程に関する照会について"),
        ("010202", "情報セキュリティ研修の実施について"),
        ("010102", "行政文書ファイル管理簿の公表について"),
        ("010203", "年次有給休暇の取得促進について"),
    ],
    "02": [
        ("020101", "第6次榛東村総合計画の進捗状況について"),
        ("020102", "経済センサス調査の実施について"),
        ("020103", "自治体DX推進計画の見直しについて"),
        ("020201", "当初予算編成方針について"),
        ("020201", "補正予算（第2号）の編成について"),
        ("020202", "決算統計の提出について"),
        ("020203", "普通交付税の算定資料について"),
        ("020102", "人口動態統計の報告について"),
        ("020103", "オンライン申請の拡充について"),
        ("020202", "主要な施策の成果に関する説明書について"),
        ("020201", "予算執行計画の提出について"),
        ("020203", "特別交付税に関する省令に基づく報告について"),
    ],
    "03": [
        ("030101", "戸籍届書の受理照会について"),
        ("030102", "住民異動届の審査事務について"),
        ("030103", "住民票の写し等の交付請求への対応について"),
        ("030201", "個人番号カードの交付事務について"),
        ("030202", "個人情報の適正な取扱いについて（通知）"),
        ("030101", "戸籍の附票の記載事項の通知について"),
        ("030103", "印鑑登録証明書の交付事務について"),
        ("030201", "電子証明書の更新案内について"),
        ("030202", "保有個人情報の開示請求への対応について"),
        ("030102", "転入者への窓口案内の見直しについて"),
        ("030101", "本籍地市町村への通知について"),
        ("030103", "窓口の混雑状況の集計について"),
    ],
    "04": [
        ("040101", "個人住民税の特別徴収について"),
        ("040102", "固定資産税の評価替えについて"),
        ("040201", "村税の収納状況について"),
        ("040202", "滞納処分の執行について"),
        ("040203", "納税相談の記録について"),
        ("040101", "住民税申告相談の実施について"),
        ("040102", "家屋評価の実地調査について"),
        ("040201", "コンビニ収納の実績について"),
        ("040202", "差押財産の公売について"),
        ("040203", "分納誓約の相談について"),
        ("040101", "給与支払報告書の提出依頼について"),
        ("040102", "土地の地目認定について"),
    ],
    "05": [
        ("050101", "特定健康診査の実施について"),
        ("050102", "定期予防接種の実施について"),
        ("050201", "生活保護の決定及び実施について"),
        ("050202", "国民健康保険税の賦課について"),
        ("050203", "高齢者見守りネットワーク会議について"),
        ("050101", "がん検診の受診勧奨について"),
        ("050102", "予防接種健康被害救済制度の周知について"),
        ("050201", "生活保護の相談記録について"),
        ("050202", "国民健康保険運営協議会の開催について"),
        ("050203", "敬老会の開催について"),
        ("050101", "乳幼児健康診査の実施について"),
        ("050202", "高額療養費の支給について"),
    ],
    "06": [
        ("060101", "農地の利用権設定について"),
        ("060102", "有害鳥獣捕獲の許可について"),
        ("060201", "商工会補助金の交付について"),
        ("060202", "榛東村ふるさとまつりの開催について"),
        ("060101", "農業委員会への意見照会について"),
        ("060102", "鳥獣被害防止計画の変更について"),
        ("060201", "中小企業融資制度の利子補給について"),
        ("060202", "観光パンフレットの作成について"),
        ("060101", "遊休農地の実態調査について"),
        ("060201", "創業支援事業計画について"),
    ],
    "07": [
        ("070101", "村道台帳の補正について"),
        ("070102", "村道舗装補修工事の施行について"),
        ("070103", "道路占用許可について"),
        ("070201", "台風被害に係る災害復旧事業について"),
        ("070102", "橋梁定期点検業務の委託について"),
        ("070103", "道路占用料の改定について"),
        ("070201", "災害査定の受検について"),
        ("070101", "村道の認定及び廃止について"),
        ("070102", "除雪作業の実施計画について"),
        ("070103", "水道管布設に伴う道路占用について"),
        ("070201", "応急復旧工事の実施について"),
    ],
    "08": [
        ("080101", "支出命令の審査について"),
        ("080102", "公金の収納事務について"),
        ("080103", "例月出納検査の結果について"),
        ("080101", "口座振替による支払について"),
        ("080102", "指定金融機関との協議について"),
        ("080103", "出納整理期間中の事務について"),
        ("080101", "前金払の取扱いについて"),
        ("080102", "収納代理金融機関の指定について"),
        ("080103", "基金の運用状況について"),
        ("080101", "電子決裁による支出事務について"),
    ],
    "09": [
        ("090101", "就学援助費の認定について"),
        ("090102", "学校給食費の改定について"),
        ("090201", "村指定文化財の保存修理について"),
        ("090202", "成人式の開催について"),
        ("090101", "就学時健康診断の実施について"),
        ("090102", "給食センターの衛生管理について"),
        ("090201", "埋蔵文化財の発掘調査について"),
        ("090202", "公民館講座の開催について"),
        ("090201", "文化財保護審議会の開催について"),
        ("090101", "学級編制の届出について"),
    ],
}
COVERS = (
    "標記の件について、下記のとおり取りまとめたので報告します。",
    "標記について、関係法令の規定に基づき事務を処理したので、その記録として保存します。",
    "標記の件について、別紙のとおり実施してよろしいか伺います。",
    "標記について、関係課と協議した結果を下記のとおり整理しました。",
    "標記の件について、県から通知があったので供覧します。",
)
SENDERS = (
    "群馬県総務部市町村課",
    "群馬県知事",
    "総務省自治行政局",
    "群馬県渋川行政県税事務所",
    "渋川広域市町村圏振興整備組合",
)
# 秘区分 by how sensitive a 小分類 is; the rest are 庁内限り or 公開.
DEPARTMENT_ONLY = {"010201", "040202", "040203", "050201", "030202"}


def on_demo_village_created(_sender: Any = None, **kwargs: Any) -> None:
    """Receiver of ``demo_village_created``: add the records of a lived-in village once."""
    if not kwargs.get("lived_in"):
        return
    install_classifications()
    register_documents()


def on_demo_village_ready(_sender: Any = None, **_kwargs: Any) -> None:
    """Receiver of ``demo_village_ready``: index what the demo wrote (documents, 決裁, chat) in one go."""
    _classify_filed_decisions()
    if indexer.pending():
        indexer.drain()


@db.writes
def _classify_filed_decisions() -> None:
    """Give filed 決裁 the 分類 their request names when they were filed before the table was loaded.

    The domains add their demo data in no fixed order: a 決裁 decided before the 分類 table existed
    was filed with its 分類 as a tag (``分類:…``, as ``filing`` does for a name it does not know).  Here
    the tag becomes the classification, so the village is the same whichever order they ran in.
    """
    session = db.session()
    by_name = {c.minor: c for c in registry.list_classifications() if c.minor}
    filed = select(ApprovalFiling.document_id)
    for doc in session.execute(select(Document).where(Document.id.in_(filed))).scalars().unique():
        tags = list(doc.tags or [])
        names = [t.removeprefix("分類:") for t in tags if t.startswith("分類:")]
        found = by_name.get(names[0]) if names and doc.classification_id is None else None
        if found is not None:
            doc.classification = found
            doc.tags = [t for t in tags if t != f"分類:{names[0]}"]
            indexer.enqueue("document", doc.id)


def classification_rows() -> list[dict[str, str]]:
    """Return the demo's 文書分類 table (code, name, level, parent, retention_years) from its data file."""
    with (DATA / "classifications.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def install_classifications() -> int:
    """Load the demo 文書分類 table through the registry (大分類/中分類/小分類) unless present; commit."""
    rows = classification_rows()
    known = set(db.session().execute(select(Classification.code)).scalars())
    if {r["code"] for r in rows} <= known:
        return 0
    names = {r["code"]: r["name"] for r in rows}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "major", "middle", "minor", "retention_years"])
    for row in rows:
        path, code = [], row["code"]
        while code:
            path.insert(0, names[code])
            code = next((r["parent"] for r in rows if r["code"] == code), "")
        path += [""] * (3 - len(path))
        writer.writerow([row["code"], *path, row["retention_years"] if row["level"] == "3" else "永年"])
    return registry.import_classifications(None, out.getvalue().encode("utf-8"))


def _passages() -> dict[str, list[dict[str, str]]]:
    by_department: dict[str, list[dict[str, str]]] = {}
    with (DATA / "statutes.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            by_department.setdefault(item["dept"], []).append(item)
    return by_department


def planned_documents(today: dt.date) -> list[dict[str, Any]]:
    """Return the documents to register: metadata, date, registrant and text (deterministic for a day)."""
    rng = random.Random(SEED)
    this_year = calendar.fiscal_year(today)
    years = (this_year - 2, this_year - 1, this_year)
    passages = _passages()
    departments = sorted(SUBJECTS)
    plans: list[dict[str, Any]] = []
    slot = 0
    while len(plans) < DOCUMENTS:
        code = departments[slot % len(departments)]
        index = slot // len(departments)
        year = years[index % 3]
        subjects = SUBJECTS[code]
        class_code, subject = subjects[(index // 3 + year) % len(subjects)]
        texts = passages[code]
        passage = texts[index % len(texts)]
        start, end = calendar.fiscal_year_bounds(year)
        end = max(start, min(end, today - dt.timedelta(days=1)))  # on 1 April: today
        day = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
        received = rng.random() < 0.25
        visibility = (
            "department" if class_code in DEPARTMENT_ONLY else rng.choice(("internal",) * 3 + ("public",))
        )
        plans.append(
            {
                "department_code": code,
                "fiscal_year": year,
                "classification": class_code,
                "title": f"{calendar.fiscal_year_label(year).split('（')[0]} {subject}",
                "day": day,
                "received": received,
                "sender": rng.choice(SENDERS) if received else None,
                "visibility": visibility,
                "cover": rng.choice(COVERS),
                "passage": passage,
                "minute": rng.randrange(8 * 60 + 30, 17 * 60),
            }
        )
        slot += 1
    # Registered in date order, as an office does: ids and 文書番号 then follow the dates.
    plans.sort(key=lambda p: (p["day"], p["minute"], p["department_code"]))
    return plans


def _registrant(code: str) -> Any:
    """The 課's first 主事 (or anyone in it): who registers its documents in the demo."""
    department = directory.get_department(code)
    people = [u for u in directory.active_users() if u.department_id == department.id] if department else []
    staff = [u for u in people if (u.title or "") == "主事"] or people
    return staff[0] if staff else None


def register_documents(today: dt.date | None = None) -> int:
    """Register the planned documents unless the first of them exists; return how many were added."""
    today = today or calendar.today()
    plans = planned_documents(today)
    first = plans[0]
    exists = (
        db.session()
        .execute(
            select(Document.id).where(
                Document.title == first["title"], Document.department_id.in_(_department_ids())
            )
        )
        .first()
    )
    if exists is not None:
        return 0
    prefix = current_app.config.get("VILLAGE_PREFIX", "榛")
    numbers: dict[tuple[str, int], int] = {}
    registrants = {code: _registrant(code) for code in SUBJECTS}
    stamps: list[tuple[int, dt.datetime]] = []
    with indexer.deferred():  # indexed once at the end (``on_demo_village_ready``), as a bulk import is
        for plan in plans:
            code, year = plan["department_code"], plan["fiscal_year"]
            department = directory.get_department(code)
            data: dict[str, Any] = {
                "title": plan["title"],
                "department_code": code,
                "fiscal_year": year,
                "classification": plan["classification"],
                "visibility": plan["visibility"],
                "binder": _binder_name(plan["classification"]),
            }
            if plan["received"]:
                data.update(received_on=plan["day"].isoformat(), sender=plan["sender"], addressee="榛東村長")
            else:
                numbers[(code, year)] = numbers.get((code, year), 0) + 1
                data["document_number"] = (
                    f"{prefix}{department.prefix or ''}第{numbers[(code, year)] * 7 + 3}号"
                )
            text = _text(plan, department.name)
            doc = registry.register(
                registrants[code], data, io.BytesIO(text.encode("utf-8")), f"{plan['title'][:60]}.txt"
            )
            at = dt.datetime.combine(
                plan["day"], dt.time(plan["minute"] // 60, plan["minute"] % 60), calendar.JST
            )
            stamps.append((doc.id, at.astimezone(dt.UTC)))
        _backdate(stamps)
    return len(stamps)


def _department_ids() -> Any:
    from workspace.models import Department

    return select(Department.id).where(Department.code.in_(tuple(SUBJECTS)))


def _binder_name(class_code: str) -> str:
    found = db.session().execute(select(Classification).where(Classification.code == class_code)).scalar_one()
    return found.minor or found.middle or found.major


def _text(plan: dict[str, Any], department_name: str) -> str:
    passage = plan["passage"]
    lines = [
        plan["title"],
        "",
        f"{calendar.wareki(plan['day'])}　{department_name}",
        "",
        plan["cover"],
        "",
        "記",
        "",
        f"【関係法令】{passage['title']}",
        passage["body"],
        "",
    ]
    return "\n".join(lines)


@db.writes
def _backdate(stamps: list[tuple[int, dt.datetime]]) -> None:
    """Give each demo document the date it was written instead of the moment of the demo run; commit.

    ``registry.register`` stamps now (a real registration happens now); the demo's history needs
    its past dates, which only an UPDATE after the registration can give.  Done before the index is
    drained, so the index reads the dates too.
    """
    session = db.session()
    for doc_id, at in stamps:
        session.execute(update(Document).where(Document.id == doc_id).values(created_at=at, updated_at=at))
        session.execute(
            update(DocumentVersion).where(DocumentVersion.document_id == doc_id).values(created_at=at)
        )
