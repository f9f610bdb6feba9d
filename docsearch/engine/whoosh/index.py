"""The whoosh index: schema, opening (rebuilding a missing or corrupt index), the single writer.

Pure index plumbing: nothing here reads the database or the request.  ``docsearch.engine.whoosh.engine``
builds the engine interface on it.  The ``acl`` field holds the entry's permission tokens (see
``docsearch.engine.base``).

``fast`` (``version.fast_path()``: the installed whoosh is the one the fast paths are tested
against) chooses the rebuild writer: our bulk writer of posting blocks, else whoosh's own writer.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh.fields import ID, KEYWORD, NUMERIC, Schema
from whoosh.index import Index, LockError
from whoosh.searching import Searcher
from whoosh.writing import IndexWriter

from docsearch.engine.base import IndexBusy, IndexEntry
from docsearch.engine.whoosh import version
from docsearch.engine.whoosh.bulkparallel import BulkWriter, bulk_writer
from docsearch.engine.whoosh.matching import warm
from docsearch.engine.whoosh.postings import field_values, text_fields

log = logging.getLogger(__name__)

#: Bump when the schema or what is indexed changes: a new index name makes every process build a
#: fresh index.  2: approval requests and chat messages joined the documents (with their acl tokens).
#: 3: no okurigana bridges (取り扱い no longer also indexed as 取扱; see docsearch.okurigana).
#: 4: the field formats moved to docsearch.engine.whoosh.postings (the TOC pickles their class path).
SCHEMA_VERSION = 4
INDEX_NAME = f"docsearch_v{SCHEMA_VERSION}"


def get_schema() -> Schema:
    """Return the schema of the unified index (see the module docstring for ``acl``)."""
    return Schema(
        key=ID(stored=True, unique=True),  # "document:12"
        type=ID(stored=True, sortable=True),
        acl=KEYWORD(),
        department=ID(stored=True, sortable=True),
        fiscal_year=ID(stored=True, sortable=True),
        classification=KEYWORD(),  # every prefix level of the 分類 code: 01, 01-02, 01-02-03
        visibility=ID(sortable=True),
        date=NUMERIC(int, bits=32, stored=True, sortable=True),  # yyyymmdd: received or registered
        **text_fields("title", stored=True),
        **text_fields("body"),
    )


def document_fields(entry: IndexEntry) -> dict[str, object]:
    """Return the add_document/update_document keyword arguments of an entry."""
    return {
        "key": entry.key,
        "type": entry.type,
        "acl": " ".join(entry.acl),
        "department": entry.department,
        "fiscal_year": "" if entry.fiscal_year is None else str(entry.fiscal_year),
        "classification": " ".join(entry.classification),
        "visibility": entry.visibility,
        "date": entry.date,
        **field_values("title", entry.title),
        **field_values("body", entry.body),
    }


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk build, then restore it.

    A rebuild keeps millions of postings in young lists the collector scans again and again, for
    nothing: none of them forms a cycle (about 6 % of the build time at 50,000 documents).  Forked
    helper processes inherit the pause.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class SearchIndex:
    """The index in one directory: opened once per process, rebuilt when missing or corrupt."""

    def __init__(self, path: Path, *, lock_timeout: float = 10.0, fast: bool | None = None) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        #: Our fast paths (bulk writer, numpy search) rather than whoosh's public API only.
        self.fast = version.fast_path() if fast is None else fast
        self._ix: Index | None = None
        self._open_lock = threading.Lock()
        # whoosh's file lock also excludes threads of this process (flock per open file), but a
        # thread lock first makes in-process writers queue instead of polling the file lock.
        self._write_lock = threading.Lock()
        self._local = threading.local()
        #: Set when the index had to be created from nothing; its owner then rebuilds it.
        self.rebuild_pending = False

    def open(self) -> Index:
        """Return the whoosh index, creating it when missing and recreating it when unreadable."""
        with self._open_lock:
            if self._ix is not None:
                return self._ix
            self.path.mkdir(parents=True, exist_ok=True)
            try:
                if not windex.exists_in(str(self.path), indexname=INDEX_NAME):
                    log.warning("search index missing in %s: creating it", self.path)
                    self._ix = self._create()
                    return self._ix
                ix = windex.open_dir(str(self.path), indexname=INDEX_NAME)
                with ix.searcher() as searcher:
                    searcher.doc_count()  # reads every segment's metadata: fails on a damaged index
            except Exception:  # whoosh raises many kinds of errors for damaged files
                log.exception("search index in %s is unreadable: rebuilding it", self.path)
                self._quarantine()
                ix = self._create()
            self._ix = ix
            return ix

    def _create(self) -> Index:
        ix = windex.create_in(str(self.path), get_schema(), indexname=INDEX_NAME)
        self.rebuild_pending = True
        return ix

    def _quarantine(self) -> None:
        """Move a damaged index aside (kept for diagnosis) and start an empty directory."""
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
        shutil.move(str(self.path), str(aside))
        self.path.mkdir(parents=True)

    def reset(self) -> None:
        """Forget the opened index so the next ``open`` re-reads (or rebuilds) it from disk."""
        with self._open_lock:
            self._ix = None
            self._local.__dict__.clear()

    @contextlib.contextmanager
    def replacement(self, *, procs: int = 1, limitmb: int = 128) -> Iterator[BulkWriter | IndexWriter]:
        """Yield a bulk writer of a new index built beside this one; on success swap it in.

        A rebuild without a gap: searches keep reading the current index until the new one is
        complete, then the directories are swapped.  Meanwhile the current index's write lock is
        held, so a drain waits and then leaves its outbox rows (IndexBusy) for the new index,
        rather than writing a change into the index about to be replaced.  On failure the new
        directory is removed and the current index stays as it was.
        """
        ix = self.open()
        if not self._write_lock.acquire(timeout=self.lock_timeout):
            raise IndexBusy("search index is locked by another thread")
        try:
            held = self._lock_files(ix)
            staging = self.path.with_name(self.path.name + ".new")
            aside = self.path.with_name(self.path.name + ".old")
            try:
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir(parents=True)
                fresh = windex.create_in(str(staging), get_schema(), indexname=INDEX_NAME)
                with gc_paused():
                    writer = self._bulk_writer(fresh, procs=procs, limitmb=limitmb)
                    try:
                        yield writer
                    except BaseException:
                        writer.cancel()
                        raise
                    writer.commit(merge=False)
                shutil.rmtree(aside, ignore_errors=True)
                with self._open_lock:
                    self.path.rename(aside)
                    staging.rename(self.path)
                    self._ix = None
                    self._local.__dict__.clear()
                    self.rebuild_pending = False
            finally:
                held.release()
                shutil.rmtree(staging, ignore_errors=True)
            # Searchers still open on the old files keep reading them (POSIX); new ones open the new.
            shutil.rmtree(aside, ignore_errors=True)
        finally:
            self._write_lock.release()

    def _lock_files(self, ix: Index) -> Any:
        """Take whoosh's write lock of ix (as its writers do), waiting up to lock_timeout."""
        lock = ix.lock("WRITELOCK")
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.05
        while not lock.acquire(False):
            if time.monotonic() >= deadline:
                raise IndexBusy("search index is locked by another process")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        return lock

    @contextlib.contextmanager
    def writer(
        self, *, bulk: bool = False, procs: int = 1, limitmb: int = 128
    ) -> Iterator[IndexWriter | BulkWriter]:
        """Yield the one writer of the index; commit on success, cancel on error.

        Waits up to ``lock_timeout`` seconds for another writer (thread or process) to finish,
        then raises IndexBusy.  ``bulk`` yields a writer that only adds documents, building new
        segments in memory on ``procs`` processes (``docsearch.engine.whoosh.bulkwriter``): for rebuilds.
        """
        ix = self.open()
        if not self._write_lock.acquire(timeout=self.lock_timeout):
            raise IndexBusy("search index is locked by another thread")
        try:
            with gc_paused() if bulk else contextlib.nullcontext():
                writer = self._acquire(ix, bulk=bulk, procs=procs, limitmb=limitmb)
                try:
                    yield writer
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit(merge=not bulk)
        finally:
            self._write_lock.release()

    def _acquire(self, ix: Index, *, bulk: bool, procs: int, limitmb: int) -> IndexWriter | BulkWriter:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.05
        while True:
            try:
                if bulk:
                    return self._bulk_writer(ix, procs=procs, limitmb=limitmb)
                return ix.writer(limitmb=limitmb)
            except LockError:
                if time.monotonic() >= deadline:
                    raise IndexBusy("search index is locked by another process") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _bulk_writer(self, ix: Index, *, procs: int, limitmb: int) -> BulkWriter | IndexWriter:
        """The rebuild writer: ours, or whoosh's own (one process) off the fast path."""
        if self.fast:
            return bulk_writer(ix, procs=procs, limitmb=limitmb)
        return ix.writer(limitmb=limitmb)

    def searcher(self) -> Searcher:
        """Return this thread's searcher, refreshed to the newest commit (whoosh readers are not
        shared between threads: they seek on shared file handles)."""
        ix = self.open()
        current: Searcher | None = getattr(self._local, "searcher", None)
        if current is None or getattr(self._local, "ix", None) is not ix or not current.up_to_date():
            # A fresh searcher rather than Searcher.refresh(), which fails on an index that was empty.
            if current is not None:
                current.close()
            current = ix.searcher()
            if self.fast:
                warm(current)
        self._local.searcher = current
        self._local.ix = ix
        return current

    def doc_count(self) -> int:
        """Return the number of entries in the index."""
        return self.searcher().doc_count()
