"""docsearch's part of 管理 › システム状態: the search index, its outbox lag, and the 索引の再構築 job.

The job ``search.reindex`` (索引の再構築) is the same gapless rebuild as ``workspace reindex``
(``indexer.rebuild``): the new index is built beside the current one and swapped in when complete,
so searches keep answering meanwhile.  It runs in the 管理 job child, off the server's event loop.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from docsearch import indexer
from docsearch.models import IndexOutbox
from workspace import audit, calendar, db
from workspace.admin import jobs, status
from workspace.models import AuditEntry, User, utcnow

KIND = "search.reindex"
#: The outbox is drained within seconds; rows older than this mean the indexer is not keeping up.
LAG_WARNING_SECONDS = 300
LAG_ERROR_SECONDS = 3600
#: When this process started: the engine's "created empty, awaits a rebuild" flag is this process's
#: own, and a rebuild by the job's child (or ``workspace reindex``) does not clear it here.
_PROCESS_STARTED = utcnow()


def reindex(run: jobs.Run) -> dict[str, Any]:
    """The job: rebuild the index from the database with a progress bar; the result is how many entries."""
    total = indexer.count_indexable()
    seen = 0

    def progress(batch: int) -> None:
        nonlocal seen
        seen += batch
        run.progress(seen / total if total else 1.0, f"{min(seen, total):,}／{total:,}件を索引に入れました")

    written = indexer.rebuild(progress=progress)
    record_rebuild(written, actor_id=run.requested_by)
    return {"written": written, "visited": seen, "summary": f"{written:,}件を索引に入れ直しました。"}


#: The audit action of a finished 索引の再構築 (from 管理 or `workspace reindex`): システム状態's
#: 前回の再構築 is the newest of them.
REBUILT = "search.rebuild"


@db.writes
def record_rebuild(written: int, *, actor_id: int | None = None, actor: str | None = None) -> None:
    """Write that the index was rebuilt (who asked, how many entries), for the audit log and 前回の再構築."""
    if actor is None and actor_id is not None:
        found = db.session().get(User, actor_id)
        actor = found.username if found is not None else None
    audit.record(REBUILT, actor=actor or "system", target="search-index", detail={"written": written})


jobs.register(KIND, "索引の再構築", "docsearch.admin_status:reindex")


def outbox_lag() -> dict[str, Any]:
    """The index updates still owed: how many rows, the oldest one's time and age in seconds."""
    with db.read_session() as session:
        rows, oldest = session.execute(
            select(func.count(), func.min(IndexOutbox.created_at)).where(
                IndexOutbox.kind.in_(list(indexer.SOURCES))
            )
        ).one()
    if isinstance(oldest, str):  # a driver that hands MIN() back as text
        oldest = dt.datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    age = max(0, int((utcnow() - oldest).total_seconds())) if oldest is not None else 0
    return {"rows": int(rows or 0), "oldest_at": calendar.isoformat(oldest), "age_seconds": age}


def last_rebuild() -> dt.datetime | None:
    """When the last 索引の再構築 ended well, from 管理 or by `workspace reindex`."""
    with db.read_session() as session:
        return session.scalar(select(func.max(AuditEntry.at)).where(AuditEntry.action == REBUILT))


def search_part() -> dict[str, Any]:
    """The search index's part of システム状態."""
    index = indexer.get_index()
    rebuilt = last_rebuild()
    awaiting = index.needs_rebuild() and (rebuilt is None or rebuilt < _PROCESS_STARTED)
    stats = index.stats()
    lag = outbox_lag()
    data = {
        "documents": stats.entries,
        "outbox_lag": lag,
        "last_rebuild": calendar.isoformat(rebuilt),
        "engine": stats.engine,
        "rebuild_needed": awaiting,
    }
    waiting = f"{lag['rows']:,}件" + (
        f"（いちばん古いもので{_age(lag['age_seconds'])}前）" if lag["rows"] else ""
    )
    facts = [
        ("索引に入っている件数", f"{stats.entries:,}件"),
        ("反映待ちの更新", waiting),
        ("前回の再構築", status.when(rebuilt) if rebuilt else "記録がありません"),
    ]
    state, summary = (
        "ok",
        "検索の索引は最新です。" if not lag["rows"] else "検索の索引は更新を反映しています。",
    )
    if lag["rows"] and lag["age_seconds"] >= LAG_ERROR_SECONDS:
        state, summary = (
            "error",
            "索引への反映が1時間以上止まっています。サーバーの記録を確認し、「索引の再構築」を実行してください。",
        )
    elif awaiting:
        state, summary = (
            "warning",
            "索引がまだ作られていません。最初の検索のときに自動で作られます（「索引の再構築」でも作れます）。",
        )
    elif lag["rows"] and lag["age_seconds"] >= LAG_WARNING_SECONDS:
        state, summary = (
            "warning",
            "索引への反映が遅れています。新しい文書やメッセージが検索に出るまで時間がかかります。",
        )
    return {
        "key": "search",
        "title": "検索の索引",
        "state": state,
        "summary": summary,
        "data": data,
        "facts": facts,
        "order": 40,
    }


def _age(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}秒"
    if seconds < 3600:
        return f"{seconds // 60}分"
    if seconds < 86400:
        return f"{seconds // 3600}時間"
    return f"{seconds // 86400}日"


def init_app(app: Flask) -> None:
    """Add the search index to 管理 › システム状態 (the job kind registered at import)."""
    status.add_part(app, "search", search_part)
