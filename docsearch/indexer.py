"""Keeping the index in step with the database: the outbox, the drain, the full rebuild.

Every change to a searchable object writes an ``IndexOutbox`` row in the same transaction
(``enqueue``).  After the commit, ``drain`` reads the rows, reads the objects' *current* state,
updates the index and only then deletes the rows; a crash anywhere in between leaves the rows, and
the next drain (in process after the next commit, or ``workspace index drain``) repeats the
idempotent update.  A missing or unreadable index is rebuilt from the database before draining.

In process the drain runs on one background worker per app (``docsearch.drainer``), so a burst of
commits shares whoosh commits and a chat message never waits for the index.  A document upload
still answers only once its document is searchable, and a search first lets the worker catch up
with what this process committed before it (both bounded; the rows stay the truth either way).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import current_app, g
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from docsearch import drainer, sources
from docsearch.engine import IndexEntry, Progress, SearchEngine, create_engine, entry_key
from docsearch.models import STATUS_ACTIVE, Document, IndexOutbox
from docsearch.permissions import document_acl
from workspace import db

log = logging.getLogger(__name__)


# --- sources: how each kind of object becomes an index entry --------------------------------------


def document_entry(doc: Document) -> IndexEntry | None:
    """Return the index entry of a document, or None when it must not be searchable (disposed)."""
    if doc.status != STATUS_ACTIVE:
        return None
    version = doc.current_version
    meta = [doc.document_number, doc.sender, doc.addressee, " ".join(doc.tags or [])]
    if doc.classification is not None:
        meta.append(doc.classification.label)
    if doc.binder is not None:
        meta.append(doc.binder.name)
    body = "\n".join([*(m for m in meta if m), version.file.text if version else ""])
    classification: list[str] = []
    if doc.classification is not None:
        parts = doc.classification.code.split("-")
        classification = ["-".join(parts[: i + 1]) for i in range(len(parts))]
    day = doc.received_on or doc.created_at.date()
    return IndexEntry(
        type="document",
        object_id=doc.id,
        title=doc.title,
        body=body,
        acl=document_acl(doc),
        department=doc.department.code,
        fiscal_year=doc.fiscal_year,
        classification=classification,
        visibility=doc.visibility,
        date=day.year * 10000 + day.month * 100 + day.day,
    )


def _load_documents(session: Session, ids: set[int]) -> dict[int, IndexEntry | None]:
    docs = session.execute(select(Document).where(Document.id.in_(ids))).scalars().all()
    found = {doc.id: document_entry(doc) for doc in docs}
    return {i: found.get(i) for i in ids}


def _document_ids(session: Session, batch: int) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(
            session.execute(
                select(Document.id)
                .where(Document.status == STATUS_ACTIVE, Document.id > last)
                .order_by(Document.id)
                .limit(batch)
            ).scalars()
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def _count_documents(session: Session) -> int:
    return session.execute(
        select(func.count()).select_from(Document).where(Document.status == STATUS_ACTIVE)
    ).scalar_one()


#: kind → (load current entries by id, iterate all ids in batches).  Approvals and chat messages are
#: read through ``chat.indexing`` / ``approvals.indexing`` (``docsearch.sources``).
SOURCES: dict[
    str,
    tuple[
        Callable[[Session, set[int]], dict[int, IndexEntry | None]],
        Callable[[Session, int], Iterator[list[int]]],
    ],
] = {
    "document": (_load_documents, _document_ids),
    "approval": (sources.load_approvals, sources.approval_ids),
    "message": (sources.load_messages, sources.message_ids),
}

#: kind → how many objects a rebuild visits (for progress bars).
COUNTS: dict[str, Callable[[Session], int]] = {
    "document": _count_documents,
    "approval": sources.count_approvals,
    "message": sources.count_messages,
}


#: Seconds a stopping server waits for its last drain (``drain_before_exit``).
STOP_DRAIN_SECONDS = 30.0


# --- the outbox ---------------------------------------------------------------------------------


@db.joins_unit
def enqueue(kind: str, object_id: int, session: Session | None = None) -> None:
    """Record, in the current transaction, that object (kind, id) must be (re)indexed or removed."""
    # A plain INSERT, at once: every chat message comes here, and a unit-of-work object costs more.
    (session or db.session()).execute(insert(IndexOutbox.__table__).values(kind=kind, object_id=object_id))


_deferred: contextvars.ContextVar[bool] = contextvars.ContextVar("docsearch_drain_deferred", default=False)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within this block commits do not drain (a bulk import drains once at the end instead)."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


#: Longest a request waits, after its commit, for the worker to index a document it registered: as
#: long as the synchronous drain it replaces could take (lock wait, then the batch).
COMMIT_WAIT_SECONDS = 60.0


def drain_after_commit(*, wait: bool = True) -> None:
    """Have the background worker drain once the current transaction commits (if SEARCH_DRAIN_ON_COMMIT).

    wait: the request then waits for that drain (a registered document is searchable when the upload
    answers); without it the committer goes on at once (chat messages, approvals).
    """
    if current_app.config.get("SEARCH_DRAIN_ON_COMMIT", True) and not _deferred.get():
        worker = _drainer()
        if wait:
            db.on_commit(lambda: _request_and_wait(worker))
        else:
            db.on_commit(worker.request)


def _request_and_wait(worker: drainer.Drainer) -> None:
    worker.request()
    if not worker.wait(COMMIT_WAIT_SECONDS):
        log.warning("search index drain still running after %.0f s; the rows stay", COMMIT_WAIT_SECONDS)


def _drainer() -> drainer.Drainer:
    return drainer.for_app(current_app._get_current_object(), _drain_round)  # type: ignore[attr-defined]


def _drain_round(**kwargs: Any) -> None:
    # The worker's round: only the rows there are now (an endless stream of new ones must not keep
    # waiters from ever seeing the round end).
    with db.read_session() as session:
        high_water = session.execute(select(func.max(IndexOutbox.id))).scalar_one()
    if high_water is not None:
        drain(up_to=high_water, **kwargs)


def request_drain() -> None:
    """Have this app's background drain apply every pending row, without waiting (a server's start)."""
    _drainer().request()


def wait_idle(timeout: float | None = None) -> bool:
    """Wait until this app's background drain has applied what was committed before the call.

    Returns False on timeout.  A round that failed (IndexBusy) also counts as finished: its rows
    stay, ``pending()`` tells.  For tests, benchmarks and commands that need the index caught up.
    """
    worker = current_app.extensions.get("docsearch_drainer")
    return True if worker is None else worker.wait(timeout)


def drain_before_exit(timeout: float = STOP_DRAIN_SECONDS) -> bool:
    """Have this process's drainer apply every outbox row committed so far; wait up to ``timeout``.

    For a server that is stopping: rows it leaves would wait for the next start's first commit.
    Returns False when the drain did not finish (the rows stay, as always).
    """
    worker = _drainer()
    worker.request()
    return worker.wait(timeout)


def get_index() -> SearchEngine:
    """Return this app's search engine (``engine.create_engine``), creating it on first use."""
    index = current_app.extensions.get("docsearch_index")
    if index is None:
        index = current_app.extensions["docsearch_index"] = create_engine(current_app.config)
    return index


def ready_index() -> SearchEngine:
    """Return the index, first rebuilding it from the database if it was missing or corrupt.

    Searches come here: it first lets this process's background drain apply what was committed
    before the call (up to SEARCH_LOCK_TIMEOUT), so one's own message is found right after posting.
    """
    worker = current_app.extensions.get("docsearch_drainer")
    # Not inside the caller's write unit: on SQLite it holds the writer lock the drain needs to
    # delete its rows. A plain read holds no lock.
    if worker is not None and not _in_write_unit():
        worker.wait(float(current_app.config.get("SEARCH_LOCK_TIMEOUT", 10.0)))
    return _open_index()


def _in_write_unit() -> bool:
    sess = g.get("db_session")
    return sess is not None and db.in_write_unit(sess)


def _open_index() -> SearchEngine:
    index = get_index()
    if index.needs_rebuild():
        rebuild(index=index)
    return index


def _session() -> Session:
    # The drain runs on the background worker or inside someone else's request (a command, the
    # import), where the caller's session is not its to commit: it always works in one of its own.
    return current_app.extensions["db_sessionmaker"]()


def pending(kinds: Iterable[str] | None = None) -> int:
    """Return how many outbox rows wait (for the given kinds, default: every indexable kind)."""
    kinds = list(kinds or SOURCES)
    with db.read_session() as session:
        return session.execute(select(func.count()).where(IndexOutbox.kind.in_(kinds))).scalar_one()


def drain(
    batch: int = 500,
    progress: Progress | None = None,
    *,
    up_to: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Apply every outbox row of an indexable kind to the index; return how many rows were applied.

    up_to: only rows with an id up to this one.  should_stop: checked between batches (shutdown).
    Raises IndexBusy when another writer keeps the lock past SEARCH_LOCK_TIMEOUT (rows stay).
    """
    index = _open_index()
    done = 0
    wanted_rows = select(IndexOutbox.id, IndexOutbox.kind, IndexOutbox.object_id).where(
        IndexOutbox.kind.in_(list(SOURCES))
    )
    if up_to is not None:
        wanted_rows = wanted_rows.where(IndexOutbox.id <= up_to)
    while not (should_stop and should_stop()):
        # Reading needs no write lock: a read session lets chat writers go on meanwhile (SQLite).
        with db.read_session() as session:
            rows = session.execute(wanted_rows.order_by(IndexOutbox.id).limit(batch)).all()
            if not rows:
                return done
            wanted: dict[str, set[int]] = {}
            for _id, kind, object_id in rows:
                wanted.setdefault(kind, set()).add(object_id)
            entries = {
                entry_key(kind, object_id): entry
                for kind, ids in wanted.items()
                for object_id, entry in SOURCES[kind][0](session, ids).items()
            }
        index.replace(entries)
        with _session() as session, db.write(session):
            # Only the rows read above: a change committed meanwhile has a newer row of its own.
            session.execute(delete(IndexOutbox).where(IndexOutbox.id.in_([r[0] for r in rows])))
        done += len(rows)
        if progress:
            progress(len(rows))
    return done


def rebuild(
    *,
    index: SearchEngine | None = None,
    batch: int = 500,
    progress: Progress | None = None,
    procs: int | None = None,
) -> int:
    """Build the index anew from the database; return the number of entries written.

    procs: processes that analyse and write (default SEARCH_INDEX_PROCS).  Outbox rows older than
    the rebuild are deleted: the rebuild read newer state than they name.
    """
    index = index or get_index()
    procs = max(1, procs or int(current_app.config.get("SEARCH_INDEX_PROCS", 1)))
    with _session() as session:
        high_water = session.execute(select(func.max(IndexOutbox.id))).scalar_one() or 0
        session.rollback()
    written = index.rebuild(_every_entry(batch), progress, workers=procs)
    with _session() as session, db.write(session):
        session.execute(
            delete(IndexOutbox).where(IndexOutbox.id <= high_water, IndexOutbox.kind.in_(list(SOURCES)))
        )
    log.info("search index rebuilt: %d entries", written)
    return written


def _every_entry(batch: int) -> Iterator[list[IndexEntry | None]]:
    """Yield the entry (None: not indexed) of every object of every kind, in batches of ``batch``."""
    for load, all_ids in SOURCES.values():
        # A read session: on SQLite it takes no writer lock, so people keep posting and saving
        # while a long rebuild reads; each batch ends its read transaction before it is indexed.
        with db.read_session() as session:
            for ids in all_ids(session, batch):
                entries = list(load(session, set(ids)).values())
                session.expunge_all()
                session.rollback()
                yield entries


def count_indexable() -> int:
    """Return how many objects a rebuild would visit (for progress bars)."""
    with _session() as session:
        return sum(COUNTS[kind](session) for kind in SOURCES if kind in COUNTS)
