"""Keeping the index in step with the database: the outbox, the drain, the full rebuild.

Every change to a searchable object writes an ``IndexOutbox`` row in the same transaction
(``enqueue``).  After the commit, ``drain`` reads the rows, reads the objects' *current* state,
updates the index and only then deletes the rows; a crash anywhere in between leaves the rows, and
the next drain (in process after the next commit, or ``workspace index drain``) repeats the
idempotent update.  A missing or unreadable index is rebuilt from the database before draining.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from docsearch import sources
from docsearch.index import IndexBusy, IndexEntry, SearchIndex, entry_key
from docsearch.models import STATUS_ACTIVE, Document, IndexOutbox
from docsearch.permissions import document_acl
from workspace import db

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


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


# --- the outbox ---------------------------------------------------------------------------------


def enqueue(kind: str, object_id: int, session: Session | None = None) -> None:
    """Record, in the current transaction, that object (kind, id) must be (re)indexed or removed."""
    (session or db.session()).add(IndexOutbox(kind=kind, object_id=object_id))


_deferred: contextvars.ContextVar[bool] = contextvars.ContextVar("docsearch_drain_deferred", default=False)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within this block commits do not drain (a bulk import drains once at the end instead)."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def drain_after_commit() -> None:
    """Ask for an in-process drain once the current transaction commits (if SEARCH_DRAIN_ON_COMMIT)."""
    if current_app.config.get("SEARCH_DRAIN_ON_COMMIT", True) and not _deferred.get():
        db.on_commit(_drain_quietly)


def _drain_quietly() -> None:
    try:
        drain()
    except IndexBusy:
        # Someone else is writing; the rows stay and the next drain takes them.
        log.info("search index busy; outbox left for the next drain")


def get_index() -> SearchIndex:
    """Return this app's SearchIndex (DATA_DIR/index), creating the object on first use."""
    index = current_app.extensions.get("docsearch_index")
    if index is None:
        path = Path(
            current_app.config.get("SEARCH_INDEX_DIR") or Path(current_app.config["DATA_DIR"]) / "index"
        )
        index = SearchIndex(path, lock_timeout=float(current_app.config.get("SEARCH_LOCK_TIMEOUT", 10.0)))
        current_app.extensions["docsearch_index"] = index
    return index


def ready_index() -> SearchIndex:
    """Return the index, first rebuilding it from the database if it was missing or corrupt."""
    index = get_index()
    index.open()
    if index.needs_rebuild:
        rebuild(index=index, recreate=False)
    return index


def _session() -> Session:
    # The drain runs in after-commit callbacks, where the caller's session may not emit SQL: it
    # always works in a session of its own.
    return current_app.extensions["db_sessionmaker"]()


def pending(kinds: Iterable[str] | None = None) -> int:
    """Return how many outbox rows wait (for the given kinds, default: every indexable kind)."""
    kinds = list(kinds or SOURCES)
    with _session() as session:
        return session.execute(select(func.count()).where(IndexOutbox.kind.in_(kinds))).scalar_one()


def drain(batch: int = 500, progress: Progress | None = None) -> int:
    """Apply every outbox row of an indexable kind to the index; return how many rows were applied.

    Raises IndexBusy when another writer keeps the lock past SEARCH_LOCK_TIMEOUT (rows stay).
    """
    index = ready_index()
    done = 0
    while True:
        with _session() as session:
            rows = session.execute(
                select(IndexOutbox.id, IndexOutbox.kind, IndexOutbox.object_id)
                .where(IndexOutbox.kind.in_(list(SOURCES)))
                .order_by(IndexOutbox.id)
                .limit(batch)
            ).all()
            if not rows:
                return done
            wanted: dict[str, set[int]] = {}
            for _id, kind, object_id in rows:
                wanted.setdefault(kind, set()).add(object_id)
            entries = {kind: SOURCES[kind][0](session, ids) for kind, ids in wanted.items()}
            session.rollback()  # end the read transaction: SQLite holds its write lock until then
        with index.writer() as writer:
            for kind, by_id in entries.items():
                for object_id, entry in by_id.items():
                    if entry is None:
                        writer.delete_by_term("key", entry_key(kind, object_id))
                    else:
                        writer.update_document(**entry.fields())
        with _session() as session:
            # Only the rows read above: a change committed meanwhile has a newer row of its own.
            session.execute(delete(IndexOutbox).where(IndexOutbox.id.in_([r[0] for r in rows])))
            session.commit()
        done += len(rows)
        if progress:
            progress(len(rows))


def rebuild(
    *,
    index: SearchIndex | None = None,
    recreate: bool = True,
    batch: int = 500,
    progress: Progress | None = None,
) -> int:
    """Build the index anew from the database; return the number of entries written.

    Outbox rows older than the rebuild are deleted: the rebuild read newer state than they name.
    """
    index = index or get_index()
    if recreate:
        index.recreate()
    procs = int(current_app.config.get("SEARCH_INDEX_PROCS", 1))
    limitmb = int(current_app.config.get("SEARCH_INDEX_LIMITMB", 256))
    written = 0
    with _session() as session:
        high_water = session.execute(select(func.max(IndexOutbox.id))).scalar_one() or 0
        session.rollback()
    with index.writer(bulk=True, procs=procs, limitmb=limitmb) as writer:
        for load, all_ids in SOURCES.values():
            with _session() as session:
                for ids in all_ids(session, batch):
                    for entry in load(session, set(ids)).values():
                        if entry is not None:
                            writer.add_document(**entry.fields())
                            written += 1
                    session.expunge_all()
                    if progress:
                        progress(len(ids))
    index.needs_rebuild = False
    with _session() as session:
        session.execute(
            delete(IndexOutbox).where(IndexOutbox.id <= high_water, IndexOutbox.kind.in_(list(SOURCES)))
        )
        session.commit()
    log.info("search index rebuilt: %d entries", written)
    return written


def count_indexable() -> int:
    """Return how many objects a rebuild would visit (for progress bars)."""
    with _session() as session:
        return sum(COUNTS[kind](session) for kind in SOURCES if kind in COUNTS)
