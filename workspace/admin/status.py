"""システム状態 in 管理: is every part of the workspace working, in plain Japanese, with 正常/注意/異常.

The core checks what it owns (database, directory, Redis, disk, version).  What belongs to a domain
comes from the domain: ``add_part(app, key, fn)`` from its ``init_app`` (docsearch: the search index;
approvals: the signing certificate), so the core never imports a domain.  ``status_parts(app)`` is
that registry.  Each part is a callable returning a ``Part`` (or a dict of its fields); one that
raises shows as 異常 with the reason, and the others still answer.

The 「索引の再構築」 button starts the ``search.reindex`` job that docsearch registers; without
docsearch the button is not shown and ``POST /api/v1/admin/reindex`` answers 404.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flask import Flask, current_app, jsonify, render_template
from sqlalchemy import select, text

from workspace import ROOT, calendar, db
from workspace.admin import api_bp, api_role, bp, jobs, page_role
from workspace.errors import ServiceError
from workspace.models import SyncRun

#: The job kind of the 「索引の再構築」 button (registered by docsearch).
REINDEX_KIND = "search.reindex"

#: The words shown beside each part: never color alone.
STATE_WORDS = {"ok": "正常", "warning": "注意", "error": "異常"}

#: Disk: 注意 below this much free space (or 5 %), 異常 below the second figure.
DISK_WARNING_BYTES = 2 * 1024**3
DISK_ERROR_BYTES = 200 * 1024**2


@dataclass
class Part:
    """One part of the system as the page shows it and the API gives it.

    ``data`` is the API's object for ``key`` (``state`` and ``summary`` are added to it); ``facts``
    are (label, text) lines for the page; ``order`` places the card on the page.
    """

    key: str
    title: str
    state: str  # ok | warning | error
    summary: str
    data: dict[str, Any] = field(default_factory=dict)
    facts: list[tuple[str, str]] = field(default_factory=list)
    order: int = 50

    @property
    def state_word(self) -> str:
        """正常, 注意 or 異常."""
        return STATE_WORDS.get(self.state, "異常")


#: A part's check: a Part, or a dict of its fields (key, title, state, summary, data, facts, order).
PartFn = Callable[[], "Part | dict[str, Any]"]


def status_parts(app: Flask) -> dict[str, PartFn]:
    """The parts ``app`` shows, by key (the core's and those its domains added)."""
    return app.extensions.setdefault("admin_status_parts", {})


def add_part(app: Flask, key: str, fn: PartFn) -> None:
    """Add (or replace) the part ``key`` of ``app``'s システム状態 (from a package's ``init_app``)."""
    status_parts(app)[key] = fn


def worst(states: list[str]) -> str:
    """The overall state: 異常 if any part is, else 注意 if any part is, else 正常."""
    for state in ("error", "warning"):
        if state in states:
            return state
    return "ok"


def human_bytes(size: int) -> str:
    """1.5 GB, 320 MB … (powers of 1024, as the operating system shows them)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit in ("B", "KB") else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{size} B"


def when(value: Any) -> str:
    """A time as people read it: 令和8年12月4日 09:30, or ―."""
    if value is None:
        return "―"
    local = calendar.to_jst(value)
    return f"{calendar.wareki(local.date())} {local:%H:%M}"


# --- the core's parts -----------------------------------------------------------------------------


def database_part() -> Part:
    """The database: which kind, does it answer, and is every migration applied."""
    from alembic.script import ScriptDirectory

    from workspace.migrate import alembic_config

    engine = db.engine()
    kind = engine.dialect.name
    kind_word = {"sqlite": "SQLite（1台構成）", "postgresql": "PostgreSQL"}.get(kind, kind)
    data: dict[str, Any] = {"kind": kind, "reachable": False, "revision": None, "heads": None}
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            revisions = sorted(r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))
        data["reachable"] = True
    except Exception as error:  # the page must answer while the database does not
        current_app.logger.warning("status: database: %s", error)
        return Part(
            "database",
            "データベース",
            "error",
            "データベースに接続できません。",
            data,
            [("種類", kind_word)],
            order=10,
        )
    heads = sorted(ScriptDirectory.from_config(alembic_config(current_app._get_current_object())).get_heads())  # type: ignore[attr-defined]
    data.update(revision=" ".join(revisions), heads=" ".join(heads))
    facts = [("種類", kind_word), ("接続", "できています"), ("スキーマの版", ", ".join(revisions) or "―")]
    if set(revisions) != set(heads):
        return Part(
            "database",
            "データベース",
            "warning",
            "スキーマの更新が済んでいません。`workspace init` を実行してください。",
            data,
            facts,
            order=10,
        )
    return Part(
        "database", "データベース", "ok", "接続できています。スキーマは最新です。", data, facts, order=10
    )


def directory_part() -> Part:
    """The directory: built-in accounts, or LDAP (does it answer, how did the last sync end)."""
    backend = current_app.config.get("DIRECTORY", "local")
    with db.read_session() as session:
        last = session.scalar(select(SyncRun).order_by(SyncRun.id.desc()).limit(1))
    last_sync = None
    if last is not None:
        last_sync = {
            "started_at": calendar.isoformat(last.started_at),
            "finished_at": calendar.isoformat(last.finished_at),
            "created": last.created,
            "updated": last.updated,
            "deactivated": last.deactivated,
            "error": last.error,
        }
    data: dict[str, Any] = {"backend": backend, "reachable": None, "last_sync": last_sync}
    if backend != "ldap":
        data["reachable"] = True
        return Part(
            "directory",
            "名簿（ディレクトリ）",
            "ok",
            "ワークスペース内蔵の名簿を使っています。",
            data,
            [("方式", "内蔵の名簿")],
            order=20,
        )
    from workspace import ldap

    facts = [("方式", "LDAP / Active Directory")]
    try:
        settings = ldap.LdapSettings.from_config(current_app.config)
    except ValueError as error:
        data["reachable"] = False
        summary = f"LDAPの設定に誤りがあります（{error}）。"
        return Part("directory", "名簿（ディレクトリ）", "error", summary, data, facts, order=20)
    try:
        ldap.check(settings)
        data["reachable"] = True
        facts.append(("接続", "できています"))
    except ldap.DirectoryError:
        data["reachable"] = False
        facts.append(("接続", "できません"))
    if last is None:
        facts.append(("前回の同期", "まだありません"))
    else:
        outcome = (
            f"失敗（{last.error}）"
            if last.error
            else (
                f"追加 {last.created}・更新 {last.updated}・停止 {last.deactivated}"
                if last.finished_at
                else "実行中"
            )
        )
        facts.append(("前回の同期", f"{when(last.finished_at or last.started_at)} {outcome}"))
    if not data["reachable"]:
        return Part(
            "directory",
            "名簿（ディレクトリ）",
            "error",
            "LDAPサーバーに接続できません。サインインと同期ができません。",
            data,
            facts,
            order=20,
        )
    if last is not None and last.error:
        return Part(
            "directory",
            "名簿（ディレクトリ）",
            "warning",
            "前回の同期が失敗しました。",
            data,
            facts,
            order=20,
        )
    return Part(
        "directory", "名簿（ディレクトリ）", "ok", "LDAPサーバーに接続できています。", data, facts, order=20
    )


def redis_part() -> Part:
    """Redis: only needed with several server processes; is it set, does it answer."""
    url = current_app.config.get("REDIS_URL")
    data: dict[str, Any] = {"configured": bool(url), "reachable": None}
    if not url:
        return Part(
            "redis",
            "Redis（複数台構成の連絡役）",
            "ok",
            "使っていません（1台構成では不要です）。",
            data,
            [("設定", "なし")],
            order=30,
        )
    try:
        import redis

        redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
        data["reachable"] = True
    except Exception as error:  # any failure to reach it is the answer
        current_app.logger.warning("status: redis: %s", error)
        data["reachable"] = False
    facts = [("設定", "あり"), ("接続", "できています" if data["reachable"] else "できません")]
    if not data["reachable"]:
        return Part(
            "redis",
            "Redis（複数台構成の連絡役）",
            "error",
            "Redisに接続できません。チャットの即時配信が届かないことがあります。",
            data,
            facts,
            order=30,
        )
    return Part("redis", "Redis（複数台構成の連絡役）", "ok", "接続できています。", data, facts, order=30)


def disk_part() -> Part:
    """Free space where the data lives (DATA_DIR: the database file, files, index, keys)."""
    usage = shutil.disk_usage(current_app.config["DATA_DIR"])
    data = {"free_bytes": usage.free, "total_bytes": usage.total}
    facts = [
        ("空き容量", human_bytes(usage.free)),
        ("全体", human_bytes(usage.total)),
        ("空きの割合", f"{usage.free / usage.total:.0%}" if usage.total else "―"),
    ]
    if usage.free < DISK_ERROR_BYTES:
        return Part(
            "disk",
            "保存領域の空き",
            "error",
            "空きがほとんどありません。すぐに容量を増やしてください。",
            data,
            facts,
            order=50,
        )
    if usage.free < DISK_WARNING_BYTES or (usage.total and usage.free / usage.total < 0.05):
        return Part(
            "disk",
            "保存領域の空き",
            "warning",
            "空きが少なくなっています。容量の追加を検討してください。",
            data,
            facts,
            order=50,
        )
    return Part("disk", "保存領域の空き", "ok", "十分な空きがあります。", data, facts, order=50)


@lru_cache(maxsize=1)
def version() -> str:
    """The installed version (pyproject's), with ``git describe`` beside it when this is a checkout."""
    try:
        number = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        try:
            number = importlib.metadata.version("village-workspace")
        except importlib.metadata.PackageNotFoundError:
            number = "不明"
    try:
        described = subprocess.run(  # noqa: S603 - a fixed command on our own folder
            ["git", "-C", str(ROOT), "describe", "--tags", "--always", "--dirty"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=3,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        described = ""
    return f"{number} ({described})" if described else str(number)


def version_part() -> Part:
    """The version of the workspace."""
    return Part(
        "version",
        "バージョン",
        "ok",
        "問い合わせのときは、この版をお伝えください。",
        {"version": version()},
        [("版", version())],
        order=70,
    )


CORE_PARTS: dict[str, PartFn] = {
    "database": database_part,
    "directory": directory_part,
    "redis": redis_part,
    "disk": disk_part,
    "version": version_part,
}


# --- gathering ------------------------------------------------------------------------------------


def _failed(key: str, error: Exception) -> Part:
    current_app.logger.exception("status part %s failed", key)
    return Part(
        key, key, "error", f"状態を確認できませんでした（{type(error).__name__}）。", {}, [], order=90
    )


def gather() -> list[Part]:
    """Every part of the current app, in the page's order; a part that raised is shown as 異常."""
    found: list[Part] = []
    for key, fn in {**CORE_PARTS, **status_parts(current_app._get_current_object())}.items():  # type: ignore[attr-defined]
        try:
            result = fn()
            found.append(result if isinstance(result, Part) else Part(**result))
        except Exception as error:  # one broken check must not hide the others
            found.append(_failed(key, error))
    return sorted(found, key=lambda p: p.order)


def status_json(parts: list[Part]) -> dict[str, Any]:
    """The API's document: one object per part (with ``state`` and ``summary``) and the exact scalars."""
    body: dict[str, Any] = {}
    for part in parts:
        if part.key == "version":
            body["version"] = part.data.get("version", part.summary)
            continue
        body[part.key] = {**part.data, "state": part.state, "summary": part.summary}
        if part.key == "disk":
            body["disk_free_bytes"] = part.data.get("free_bytes")
    body["state"] = worst([p.state for p in parts])
    body.setdefault("search", None)
    body.setdefault("signing_certificate", None)
    return body


# --- page and API ---------------------------------------------------------------------------------


@bp.get("/status")
@page_role()
def status_page() -> Any:
    """システム状態: a card per part with its 正常/注意/異常, and the 「索引の再構築」 panel."""
    parts = gather()
    reindex = REINDEX_KIND in jobs.KINDS
    job = jobs.latest(REINDEX_KIND) if reindex else None
    return render_template(
        "workspace/admin/status.html",
        parts=parts,
        overall=worst([p.state for p in parts]),
        state_words=STATE_WORDS,
        reindex=reindex,
        job=jobs.job_json(job) if job else None,
        checked_at=when(calendar.now()),
    )


@api_bp.get("/admin/status")
@api_role()
def api_status() -> Any:
    """The state of the system.
    ---
    get:
      summary: Database, directory, Redis, search index, disk, signing certificate, version (role admin)
      description: >
        Each part is an object with `state` (ok | warning | error) and a Japanese `summary`, plus its
        figures: database {kind, reachable, revision, heads}; directory {backend, reachable, last_sync};
        redis {configured, reachable}; search {documents, outbox_lag: {rows, oldest_at, age_seconds},
        last_rebuild}; disk {free_bytes, total_bytes}; signing_certificate {present, not_before,
        not_after, days_left, subject}. `search` and `signing_certificate` are null when their package
        is not installed.
      tags: [admin]
      responses:
        200:
          description: >
            {"database", "directory", "redis", "search": {"documents", "outbox_lag", "last_rebuild"},
            "disk_free_bytes", "signing_certificate": {"not_after"}, "version", "state", "disk"}
          content:
            application/json:
              schema:
                type: object
                required: [database, directory, redis, search, disk_free_bytes, signing_certificate, version]
        403: {description: not an administrator}
    """
    return jsonify(status_json(gather()))


@api_bp.post("/admin/reindex")
@api_role()
def start_reindex() -> Any:
    """Start the gapless rebuild of the search index.
    ---
    post:
      summary: Rebuild the search index in the background (role admin)
      description: >
        Answers 202 with the job at once; the same job if a rebuild is already running. Searches keep
        answering from the old index until the new one is complete. Result: {"written"}.
      tags: [admin]
      responses:
        202: {description: '{"job": {"id", "kind", "state", "progress", …}, "started": bool}'}
        403: {description: not an administrator}
        404: {description: the search package is not installed}
    """
    if REINDEX_KIND not in jobs.KINDS:
        raise ServiceError("検索の機能が入っていません。", "not_found", status=404)
    return jobs.start_for_me(REINDEX_KIND)
