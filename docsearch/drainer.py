"""The drainer: one background worker per app applies the outbox to the index.

A commit that owes the index an update calls ``request()``; the worker wakes, drains every outbox
row in batches and sleeps again.  Requests that arrive while it works are served by its next round,
so a burst of N chat messages costs a handful of whoosh commits instead of N, and the sender never
waits for the index.  The outbox rows stay the truth: the worker deletes them only after the index
has them, a failure (``IndexBusy``, a full disk) leaves them for the next round or
``workspace index drain``, and a process that dies mid-round loses nothing.

``wait()`` lets a caller that must see its own writes (a document upload answers "searchable",
a search in the same process) wait for the round that covers them.  The worker is a
``threading.Thread``: in the CLI and tests a real thread that runs the rounds itself.  It exits
after a quiet spell, when the app's engine is disposed, and at interpreter exit (after finishing
the current batch), so it never keeps a process alive.

Under ``workspace serve`` gevent has patched threading, so the worker is a greenlet on the event
loop, and a round's work is CPU-bound (analysing the entries, whoosh's commit and segment merge:
tens to hundreds of milliseconds) — run there it would stall every socket of the process.  So
there the worker only schedules: each round is run by the drain child (``DrainChild``), a plain
interpreter that ``workspace serve`` starts as its child on the first round and keeps, while the
greenlet waits for its answer on a pipe without blocking the loop.  The child runs exactly what
``workspace index drain`` runs (read sessions for the source, its own short write transaction for
the outbox-row delete, whoosh's file lock against other writers), so nothing in it shares a lock
with the loop.  A real thread in the server process was the other choice, but it would hold the GIL
through whoosh's pure-Python work, and the loop, which releases the GIL at every socket send, would
then wait up to the interpreter's switch interval (5 ms) for it after each of a fan-out's 500
sends.  A child found dead is replaced and asked again (a round is idempotent; if that fails too
the round failed and the rows stay).  The child ignores SIGINT/SIGTERM (a stopping server still
asks it for the last round) and ends when its pipe closes: the server stops it, or dies.  One cost: while
the child's short delete transaction holds SQLite's write lock, a server writer waits on SQLite's
busy timeout (a millisecond or two) instead of on the in-process writer lock, as with a separate
``workspace index drain --loop``.
"""

from __future__ import annotations

import atexit
import importlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from flask import Flask
from gevent import monkey
from sqlalchemy import event

import workspace
from docsearch.engine import IndexBusy
from workspace.child import child_env, portable_config

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
        # On an event loop (gevent) the rounds run in a child process, else on the worker itself.
        self._child = DrainChild(app, drain) if monkey.is_module_patched("threading") else None
        #: The process that ran the last round: this one, or the drain child.
        self.last_round_pid: int | None = None
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
            finished = thread is None or not thread.is_alive()
            if finished:
                self._stopping = False  # a later request (a reused app) starts a fresh worker
        if self._child is not None and finished:
            self._child.close(timeout)  # a later round starts a new one

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
        if self._child is not None:
            applied, self.last_round_pid = self._child.run_round()
        else:
            applied = run_round(self._app, self._drain, should_stop=lambda: self._stopping)
            self.last_round_pid = os.getpid()
        if not applied:
            self.failures += 1


def run_round(app: Flask, drain: Callable[..., Any], should_stop: Callable[[], bool]) -> bool:
    """Run one drain round in an app context of its own; return False when it failed (rows stay)."""
    try:
        with app.app_context():
            drain(should_stop=should_stop)
        return True
    except IndexBusy:
        log.info("search index busy; outbox left for the next drain")
    except Exception:
        # The database or the index failed: nothing is lost (the rows stay); say so and go on.
        log.exception("search index drain failed; outbox left for the next drain")
    return False


# --- the drain child ------------------------------------------------------------------------------

#: The child's program: a plain interpreter (never monkey-patched) serving rounds (``child_main``).
_CHILD_PROGRAM = "from docsearch.drainer import child_main; child_main()"


class DrainChild:
    """The child process that runs a gevent server's drain rounds, started on the first round.

    The protocol is one line each way on its stdin/stdout: first the app's configuration and the
    drain function, then a line per round, answered by ``{"applied": bool, "pid": int}``.  Only the
    drainer's worker talks to it (one round at a time); under gevent the pipes are cooperative.
    """

    def __init__(self, app: Flask, drain: Callable[..., Any]) -> None:
        self._app = app
        self._drain = f"{drain.__module__}:{drain.__qualname__}"
        self._process: subprocess.Popen[bytes] | None = None

    def run_round(self) -> tuple[bool, int | None]:
        """Have the child run one round; return (applied, its pid).

        A child found dead (killed, out of memory) is replaced and asked once more: the round is
        idempotent, and its rows would otherwise wait for the next commit.  Failing twice, the round
        failed (the rows stay).
        """
        for _attempt in range(2):
            reply = self._ask()
            if reply:
                answer = json.loads(reply)
                return bool(answer["applied"]), int(answer["pid"])
            log.warning("search drain child is gone; starting a new one")
            self.close(1.0)
        return False, None

    def _ask(self) -> bytes:
        if self._process is not None and self._process.poll() is not None:
            self.close(0)
        try:
            process = self._process if self._process is not None else self._start()
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(b"round\n")
            process.stdin.flush()
            return process.stdout.readline()
        except (OSError, ValueError):  # it could not start, the pipe broke, or stop() closed it
            return b""

    def _start(self) -> subprocess.Popen[bytes]:
        env = child_env()
        process = self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and program
            [sys.executable, "-c", _CHILD_PROGRAM], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        assert process.stdin is not None
        # The configuration goes down the pipe, not into argv or the environment (it holds secrets).
        header = {"config": portable_config(self._app), "drain": self._drain}
        process.stdin.write(json.dumps(header).encode() + b"\n")
        process.stdin.flush()
        return process

    def close(self, timeout: float) -> None:
        """Close the child's pipe (it ends after its current round); wait up to timeout, then kill it."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout)
        except (OSError, ValueError):
            pass  # already gone
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        finally:
            if process.stdout is not None:
                process.stdout.close()


def child_main() -> None:
    """The drain child: build the app from the header line, run a round for every line after it."""
    # The server's shutdown (Ctrl-C reaches the whole process group, systemd's stop every process)
    # still asks for a last round; the child ends when the server closes the pipe, or dies.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt the answers
    header = json.loads(sys.stdin.readline())
    module, name = header["drain"].split(":")
    drain = getattr(importlib.import_module(module), name)
    app = workspace.create_app(header["config"])
    for _line in sys.stdin:
        applied = run_round(app, drain, should_stop=lambda: False)  # a round ends at its high-water mark
        answers.write(json.dumps({"applied": applied, "pid": os.getpid()}) + "\n")


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
