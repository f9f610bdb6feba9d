"""A demo village: the departments of a small Japanese village office and a few staff in each.

``create_demo_village`` makes the 課, 係 and accounts, then sends ``demo_village_created``: each domain
adds its own demo data through a receiver in its own package (chat/demo.py, approvals/demo.py,
docsearch/demo.py), built through its services from fixed data and a fixed seed.  A lived-in village
(the default) gets four weeks of chat, 決裁 at every stage and about 300 registered documents; the
bare one (``workspace demo --empty``) only the people and the default routes.  Every part is skipped
when it is already there, so running the command again changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from workspace import audit, db, directory, outbox, security, signals
from workspace.models import User

DEMO_PASSWORD = "demo-2026-mura"  # noqa: S105 - the printed demo password

# (code, name, prefix, [(username, display name, title, section code or None)])
VILLAGE: list[tuple[str, str, str, list[tuple[str, str, str, str | None]]]] = [
    (
        "01",
        "総務課",
        "総",
        [
            ("sato", "佐藤 一郎", "課長", None),
            ("suzuki", "鈴木 花子", "係長", "0101"),
            ("takahashi", "高橋 健太", "主事", "0101"),
            ("ito", "伊藤 美咲", "係長", "0102"),
            ("watanabe", "渡辺 翔", "主事", "0102"),
        ],
    ),
    (
        "02",
        "企画財政課",
        "企",
        [
            ("tanaka", "田中 誠", "課長", None),
            ("yamamoto", "山本 由美", "係長", None),
            ("nakamura", "中村 大輔", "主事", None),
            ("kobayashi", "小林 さくら", "主事", None),
        ],
    ),
    (
        "03",
        "住民課",
        "住",
        [
            ("kato", "加藤 浩", "課長", None),
            ("yoshida", "吉田 恵", "係長", None),
            ("yamada", "山田 太郎", "主事", None),
            ("sasaki", "佐々木 彩", "主事", None),
        ],
    ),
    (
        "04",
        "税務課",
        "税",
        [
            ("yamaguchi", "山口 修", "課長", None),
            ("matsumoto", "松本 直子", "係長", None),
            ("inoue", "井上 拓也", "主事", None),
        ],
    ),
    (
        "05",
        "健康福祉課",
        "健",
        [
            ("kimura", "木村 昌子", "課長", None),
            ("hayashi", "林 亮", "係長", None),
            ("shimizu", "清水 千尋", "主事", None),
        ],
    ),
    (
        "06",
        "産業振興課",
        "産",
        [
            ("yamazaki", "山崎 学", "課長", None),
            ("mori", "森 優子", "係長", None),
            ("abe", "阿部 颯太", "主事", None),
        ],
    ),
    (
        "07",
        "建設課",
        "建",
        [
            ("ikeda", "池田 隆", "課長", None),
            ("hashimoto", "橋本 恵子", "係長", None),
            ("ishikawa", "石川 陸", "主事", None),
        ],
    ),
    (
        "08",
        "会計課",
        "会",
        [
            ("ogawa", "小川 幸子", "課長", None),
            ("goto", "後藤 真一", "係長", None),
            ("okada", "岡田 葵", "主事", None),
        ],
    ),
    (
        "09",
        "教育委員会事務局",
        "教",
        [
            ("hasegawa", "長谷川 正", "事務局長", None),
            ("murakami", "村上 智子", "係長", None),
            ("kondo", "近藤 悠", "主事", None),
        ],
    ),
]
SECTIONS = [("0101", "総務係", "01"), ("0102", "情報政策係", "01")]
EXECUTIVES = [("soncho", "榛名 正雄", "村長"), ("fukusoncho", "東 和子", "副村長")]
# 読み of every demo person, so the person picker and @mention completion find them by kana.
READINGS: dict[str, str] = {
    "soncho": "はるな まさお",
    "fukusoncho": "あずま かずこ",
    "admin": "かんり たろう",
    "sato": "さとう いちろう",
    "suzuki": "すずき はなこ",
    "takahashi": "たかはし けんた",
    "ito": "いとう みさき",
    "watanabe": "わたなべ しょう",
    "tanaka": "たなか まこと",
    "yamamoto": "やまもと ゆみ",
    "nakamura": "なかむら だいすけ",
    "kobayashi": "こばやし さくら",
    "kato": "かとう ひろし",
    "yoshida": "よしだ めぐみ",
    "yamada": "やまだ たろう",
    "sasaki": "ささき あや",
    "yamaguchi": "やまぐち おさむ",
    "matsumoto": "まつもと なおこ",
    "inoue": "いのうえ たくや",
    "kimura": "きむら まさこ",
    "hayashi": "はやし りょう",
    "shimizu": "しみず ちひろ",
    "yamazaki": "やまざき まなぶ",
    "mori": "もり ゆうこ",
    "abe": "あべ そうた",
    "ikeda": "いけだ たかし",
    "hashimoto": "はしもと けいこ",
    "ishikawa": "いしかわ りく",
    "ogawa": "おがわ さちこ",
    "goto": "ごとう しんいち",
    "okada": "おかだ あおい",
    "hasegawa": "はせがわ ただし",
    "murakami": "むらかみ ともこ",
    "kondo": "こんどう ゆう",
}


@dataclass(frozen=True)
class DemoPerson:
    """A printed login."""

    username: str
    display_name: str
    department: str
    title: str
    roles: str


def create_demo_village(*, lived_in: bool = True) -> list[DemoPerson]:
    """Create the demo departments and accounts when missing, then let the domains add their data.

    lived_in: also chat history, 決裁 and documents (``demo_village_created`` with ``lived_in``).
    Returns everyone's login; commits.  Nothing is written again for what already exists.
    """
    people: list[DemoPerson] = []
    before = _count_users()
    # Every demo account has the same printed password: hash it once, not once per account.
    shared_hash = functools.cache(lambda: security.hash_password(DEMO_PASSWORD))
    depts = {}
    with db.write():
        for code, name, prefix, _staff in VILLAGE:
            depts[code] = directory.ensure_department(code, name, prefix=prefix)
        for code, name, parent in SECTIONS:
            directory.ensure_department(code, name, parent=depts[parent])
    with db.write():
        for username, display_name, title in EXECUTIVES:
            people.append(_ensure(username, display_name, "01", None, title, (), shared_hash))
        people.append(_ensure("admin", "管理 太郎", "01", "0102", "主事", ("admin", "records"), shared_hash))
        for code, _name, _prefix, staff in VILLAGE:
            for username, display_name, title, section in staff:
                roles = ("records",) if username == "takahashi" else ()
                people.append(_ensure(username, display_name, code, section, title, roles, shared_hash))
        if _count_users() != before:  # a second run records nothing: it changed nothing
            audit.record("demo.create", actor="cli", detail={"people": len(people)})
    app = current_app._get_current_object()
    # Hundreds of commits follow; the index is brought up to date once, when all are written
    # (``demo_village_ready``), instead of a background index commit racing each of them.
    # The same for the outbox: the signed records of the decided 決裁 and their filing are made here,
    # in this process, before the village is called ready (not by a worker racing the demo's writes).
    drain_on_commit = app.config.get("SEARCH_DRAIN_ON_COMMIT", True)
    worker = app.config.get("OUTBOX_WORKER", True)
    app.config["SEARCH_DRAIN_ON_COMMIT"] = False
    app.config["OUTBOX_WORKER"] = False
    try:
        signals.demo_village_created.send(app, lived_in=lived_in)
        outbox.run_due()
    finally:
        app.config["SEARCH_DRAIN_ON_COMMIT"] = drain_on_commit
        app.config["OUTBOX_WORKER"] = worker
    signals.demo_village_ready.send(app)
    return people


def _count_users() -> int:
    return db.session().execute(select(func.count(User.id))).scalar_one()


def _ensure(
    username: str,
    display_name: str,
    dept_code: str,
    section: str | None,
    title: str,
    roles: tuple[str, ...],
    shared_hash: Callable[[], str],
) -> DemoPerson:
    user = directory.get_user(username)
    if user is None:
        user = directory.add_local_user(
            username,
            display_name,
            DEMO_PASSWORD,
            department_code=dept_code,
            section_code=section,
            title=title,
            roles=roles,
            actor="demo",
            display_name_kana=READINGS.get(username),
            password_hash=shared_hash(),
        )
    dept = user.department.name if user.department else ""
    return DemoPerson(user.username, user.display_name, dept, user.title or "", ",".join(sorted(user.roles)))


def format_logins(people: list[DemoPerson]) -> str:
    """Return the printed table of demo logins."""
    lines = [f"デモ村のログイン（パスワードは全員 {DEMO_PASSWORD}）:", ""]
    for p in people:
        lines.append(f"  {p.username:<12} {p.display_name:<10} {p.department:<10} {p.title:<6} {p.roles}")
    return "\n".join(lines)
