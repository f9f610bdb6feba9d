"""The in-process drainer: one background worker per app applies the outbox to the index.

A commit that owes the index an update calls ``request()``; the worker wakes, drains every outbox
row in batches and sleeps again.  Requests that arrive while it works are served by its next round,
so a burst of N chat messages costs a handful of whoosh commits instead of N, and the sender never
waits for the index.  The outbox rows stay the truth: the worker deletes them only after the index
has them, a failure (``IndexBusy``, a full disk) leaves them for the next round or
``workspace index drain``, and a process that dies mid-round loses nothing.

``wait()`` lets a caller that must see its own writes (a document upload answers "searchable",
a search in the same process) wait for the round that covers them.  The worker is a
``threading.Thread``: under ``workspace serve`` gevent has patched threading, so it is a greenlet
sharing the loop with the Socket.IO handlers (it yields between documents); in the CLI and tests
it is a real thread.  It exits after a quiet spell, when the app's engine is disposed, and at
interpreter exit (after finishing the current batch), so it never keeps a process alive.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import event

from docsearch.engine import IndexBusy

log = logging.getLogger(__name__)

#: Seconds the worker stays parked without requests before it ends (the next request starts one).
IDLE_EXIT_SECONDS = 30.0
#: Seconds the worker lets requests gather before a round, unless someone waits for it: a busy
#: channel then costs one whoosh commit (and one segment merge) per gathering, not per message.
GATHER_SECONDS = 0.5

_live: weakref.WeakSet[Drainer] = weakref.WeakSet()


class Drainer:
    """The background drainer of one app (``for_app``).  Thread- and greenlet-safe."""

    def __init__(self, app: Flask, drain: Callable[..., Any]) -> None:
        self._app = app
        self._drain = drain  # indexer.drain; passed in to keep this module free of the index plumbing
        self._cond = threading.Condition()
        self._requested = 0  # requests made so far
        self._served = 0  # every request up to this one had its rows applied (or the round failed)
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._hurry = False  # someone waits: start the round without gathering
        self.rounds = 0  # rounds run (each one whoosh commit per batch of up to 500 rows)
        self.failures = 0  # rounds that left rows behind

    def request(self) -> None:
        """Ask for a drain of every outbox row committed so far; return at once."""
        with self._cond:
            self._requested += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="docsearch-drainer", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until a round that began after this call has finished; return False on timeout.

        Returns at once (True) when nothing was requested, and from the worker itself (it would
        wait for itself).  A finished round may have failed: the rows then still wait.
        """
        if self._thread is not None and self._thread.ident == threading.get_ident():
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            target = self._requested
            if self._served < target:
                self._hurry = True
                self._cond.notify_all()
            while self._served < target:
                if self._thread is None or not self._thread.is_alive():
                    return False  # stopped: nobody will serve it in this process
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining if remaining is not None else 1.0)
            return True

    @property
    def busy(self) -> bool:
        """True while requests wait or a round runs."""
        with self._cond:
            return self._served < self._requested

    def stop(self, timeout: float = 10.0) -> None:
        """Let the current batch finish, end the worker and wait up to timeout for it.

        Rows not yet applied stay in the outbox; a later request starts a new worker.
        """
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread.is_alive() and thread.ident != threading.get_ident():
            thread.join(timeout)
        with self._cond:
            if thread is None or not thread.is_alive():
                self._stopping = False  # a later request (a reused app) starts a fresh worker

    def _run(self) -> None:
        while True:
            with self._cond:
                idle_since = time.monotonic()
                while self._served >= self._requested and not self._stopping:
                    left = IDLE_EXIT_SECONDS - (time.monotonic() - idle_since)
                    if left <= 0:
                        self._thread = None  # a later request starts a fresh worker
                        return
                    self._cond.wait(left)
                gather_until = time.monotonic() + GATHER_SECONDS
                while not (self._hurry or self._stopping):
                    left = gather_until - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._stopping:
                    self._served = self._requested  # release waiters; the rows stay in the outbox
                    self._cond.notify_all()
                    return
                self._hurry = False
                target = self._requested
            self._round()
            with self._cond:
                self._served = max(self._served, target)
                self._cond.notify_all()

    def _round(self) -> None:
        # Every row committed before `target` was requested is read by this round: the request
        # comes after the commit, and the round reads after taking the request count.
        self.rounds += 1
        try:
            with self._app.app_context():
                self._drain(should_stop=lambda: self._stopping)
        except IndexBusy:
            self.failures += 1
            log.info("search index busy; outbox left for the next drain")
        except Exception:
            # The database or the index failed: nothing is lost (the rows stay); say so and go on.
            self.failures += 1
            log.exception("search index drain failed; outbox left for the next drain")


_create = threading.Lock()


def for_app(app: Flask, drain: Callable[..., Any]) -> Drainer:
    """Return app's drainer, creating it (and its shutdown hook) on first use."""
    drainer = app.extensions.get("docsearch_drainer")
    if drainer is None:
        with _create:
            drainer = app.extensions.get("docsearch_drainer")
            if drainer is None:
                drainer = app.extensions["docsearch_drainer"] = Drainer(app, drain)
                _live.add(drainer)
                # Tests and tools dispose the engine when done with an app: a worker left running
                # would go on reading the outbox of a database that now belongs to someone else.
                event.listen(app.extensions["db_engine"], "engine_disposed", lambda *_a: drainer.stop())
    return drainer


@atexit.register
def _stop_all() -> None:
    # Daemon threads die mid-write at exit; give the current batch a moment to land instead.
    for drainer in list(_live):
        drainer.stop(timeout=5.0)
