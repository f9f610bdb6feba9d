"""A rebuild on several cores: helper processes each build their own segments of the documents.

Analysing Japanese text and writing posting blocks is CPU-bound Python, so a rebuild uses
``procs - 1`` forked helper processes besides the calling one.  The caller keeps the index lock and
reads the documents (from the database); batches go to a bounded queue, and whenever the helpers
are busy (the queue is full) the caller indexes the batch itself, so the work balances whatever the
speed of the reading.  Each process writes whole segments (``BulkSegmentWriter``); the caller
commits them all in one TOC.  Documents are not in insertion order across segments, which only
changes the order of equally scored hits, as whoosh's own multi-process writer does.
"""

from __future__ import annotations

import multiprocessing
import queue
import traceback
from typing import Any

from whoosh.index import Index

from docsearch.engine.whoosh.bulkwriter import BulkSegmentWriter

#: Documents per batch sent to a helper: large enough that pickling overhead is small.
BATCH = 64


class ParallelBulkWriter:
    """``add_document``/``commit``/``cancel`` of ``BulkSegmentWriter`` over ``procs`` processes.

    Raises ``whoosh.index.LockError`` when the index is locked (as whoosh's writers do).
    """

    def __init__(self, ix: Index, *, procs: int, limitmb: int = 256, timeout: float = 0.0) -> None:
        self._writer = BulkSegmentWriter(ix, limitmb=limitmb, timeout=timeout)
        # fork: the helpers inherit the schema, the codec and the open storage without pickling;
        # they never touch the caller's database connections and leave with os._exit.
        context = multiprocessing.get_context("fork")
        self._jobs: Any = context.Queue(maxsize=2 * (procs - 1))
        self._results: Any = context.Queue()
        self._helpers = [
            context.Process(target=_helper, args=(ix, limitmb, self._jobs, self._results), daemon=True)
            for _ in range(procs - 1)
        ]
        for helper in self._helpers:
            helper.start()
        self._batch: list[dict[str, Any]] = []

    def add_document(self, **fields: Any) -> None:
        """Queue one document; full batches go to a free helper or are indexed here."""
        self._batch.append(fields)
        if len(self._batch) >= BATCH:
            batch, self._batch = self._batch, []
            try:
                self._jobs.put_nowait(batch)
            except queue.Full:
                self._writer.add_documents(batch)

    def commit(self, **_ignored: Any) -> None:
        """Wait for the helpers' segments and commit them with this process's own, without merging."""
        self._writer.add_documents(self._batch)
        self._batch = []
        for _ in self._helpers:
            self._jobs.put(None)
        try:
            segments = self._writer.finish_segments()  # while the helpers write theirs
            for _ in self._helpers:
                segments.extend(self._result())
        except BaseException:
            self.cancel()
            raise
        for helper in self._helpers:
            helper.join()
        self._writer.commit_segments(segments)

    def _result(self) -> list[Any]:
        while True:
            try:
                kind, payload = self._results.get(timeout=1.0)
            except queue.Empty:
                if any(h.exitcode not in (None, 0) for h in self._helpers):
                    raise RuntimeError("a search index helper process died") from None
                continue
            if kind == "error":
                raise RuntimeError(f"search index helper failed:\n{payload}")
            return payload

    def cancel(self) -> None:
        """Stop the helpers and give up every document added (their segment files are cleaned later)."""
        self._jobs.cancel_join_thread()  # batches nobody will read must not block this process's exit
        for helper in self._helpers:
            if helper.is_alive():
                helper.terminate()
            helper.join()
        self._writer.cancel()


def _helper(ix: Index, limitmb: int, jobs: Any, results: Any) -> None:
    try:
        writer = BulkSegmentWriter(ix, limitmb=limitmb, _lk=False)
        while (batch := jobs.get()) is not None:
            writer.add_documents(batch)
        # The caller removes the shared temporary folder once every helper is done.
        results.put(("ok", writer.finish_segments()))
    except BaseException:
        results.put(("error", traceback.format_exc()))


BulkWriter = BulkSegmentWriter | ParallelBulkWriter


def bulk_writer(ix: Index, *, procs: int = 1, limitmb: int = 256) -> BulkWriter:
    """Return the bulk writer for a rebuild on ``procs`` processes; raise LockError when locked."""
    if procs > 1:
        return ParallelBulkWriter(ix, procs=procs, limitmb=limitmb)
    return BulkSegmentWriter(ix, limitmb=limitmb)
