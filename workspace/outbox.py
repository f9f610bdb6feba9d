"""The transactional outbox: work owed after a change is written in the change's own transaction.

``owe(kind, ref)`` adds an ``OutboxJob`` row on the current session, so the job commits with the
change or not at all: a crash between the commit and the work loses nothing, because the row is
still there for the next round (or the next start of ``workspace serve``).  After the commit, the
app's worker wakes (``db.on_commit``) and runs each due job; the row is deleted once its handler's
write units have committed.  A worker claims a job (``claimed_until``) before it runs it, so two
workers never run one job at once; a handler that fails is retried later (``attempts``,
``not_before``, ``last_error`` say why).  Handlers read the object's current state, so doing a job
twice (after a crash between the handler's commit and the row's deletion) is harmless.

Domains register their handlers with ``handler(kind)`` at import time (a plain dict, the same for
every app in the process).  Kinds are ``<package>.<what>``: ``approvals.record`` (render and sign a
decided record), ``docsearch.file`` (file it in the registry), ``docsearch.settle_disposal``.

The search index keeps its own batched outbox (``docsearch``'s ``search_outbox``, drained by the
indexer), written the same way: in the transaction of the change.

The worker is a ``threading.Thread``: a greenlet under ``workspace serve`` (gevent), a real thread in
the CLI and tests.  CPU-bound work inside a handler goes through ``workspace.offload`` so that it does
not stall the event loop.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import and_, delete, func, or_, select, update

from workspace import db
from workspace.models import OutboxJob, utcnow

log = logging.getLogger(__name__)

#: Handlers by kind: ``fn(ref)`` does the job on ``db.session()`` and does not commit.
HANDLERS: dict[str, Callable[[int], None]] = {}

#: Seconds the worker stays parked without requests before it ends (the next request starts one).
IDLE_EXIT_SECONDS = 30.0
#: Retry delays after the 1st, 2nd, … failure; the last one repeats.
RETRY_SECONDS = (5, 30, 120, 600)
#: Jobs taken per round.
BATCH = 50


def handler(kind: str) -> Callable[[Callable[[int], None]], Callable[[int], None]]:
    """Register ``fn`` as the handler of ``kind`` (idempotent: the same module imported twice is fine)."""

    def register(fn: Callable[[int], None]) -> Callable[[int], None]:
        HANDLERS[kind] = fn
        return fn

    return register


@db.joins_unit
def owe(kind: str, ref: int) -> None:
    """Record, in the current transaction, that job ``kind`` is owed for object ``ref``."""
    if kind not in HANDLERS:
        raise ValueError(f"no outbox handler for {kind!r}")
    db.session().add(OutboxJob(kind=kind, ref=int(ref), attempts=0))
    db.on_commit(kick)


def kick() -> None:
    """Wake the current app's worker (after a commit that owed a job)."""
    if current_app.config.get("OUTBOX_WORKER", True):
        worker_for(current_app._get_current_object()).request()  # type: ignore[attr-defined]


def pending(kinds: Iterable[str] | None = None, ref: int | None = None) -> int:
    """Return how many jobs (of ``kinds``, for ``ref``) are still owed, due or not."""
    query = select(OutboxJob.id)
    if kinds is not None:
        query = query.where(OutboxJob.kind.in_(list(kinds)))
    if ref is not None:
        query = query.where(OutboxJob.ref == ref)
    with db.read_session() as session:
        return len(session.execute(query).all())


def failed() -> list[OutboxJob]:
    """Return the jobs that failed at least once, oldest first (for ``workspace outbox status``)."""
    with db.read_session() as session:
        return list(session.scalars(select(OutboxJob).where(OutboxJob.attempts > 0).order_by(OutboxJob.id)))


def failed_attempts(kind: str, ref: int) -> int:
    """Return how often job ``kind`` for ``ref`` has failed so far (0: not failed, or not owed)."""
    with db.read_session() as session:
        return session.scalar(
            select(func.coalesce(func.max(OutboxJob.attempts), 0)).where(
                OutboxJob.kind == kind, OutboxJob.ref == ref
            )
        )


def run_due(limit: int | None = None) -> int:
    """Run every due job now, in this app context; return how many were done (the CLI, the worker)."""
    done = 0
    while limit is None or done < limit:
        now = utcnow()
        with db.read_session() as session:
            ids = list(
                session.scalars(
                    select(OutboxJob.id).where(_due_now(now)).order_by(OutboxJob.id)
                    .limit(BATCH)
                )
            )
        if not ids:
            return done
        progressed = False
        for job_id in ids:
            if run_one(job_id):
                done += 1
                progressed = True
        if not progressed:
            return done  # every due job failed this round: they wait for their retry time


#: Seconds a worker holds a job it took: another worker (another process) leaves it alone that long,
#: and takes it over after, should the first one have died with it.
CLAIM_SECONDS = 600


def _due_now(now: dt.datetime) -> Any:
    return and_(
        OutboxJob.kind.in_(list(HANDLERS)),
        or_(OutboxJob.not_before.is_(None), OutboxJob.not_before <= now),
        or_(OutboxJob.claimed_until.is_(None), OutboxJob.claimed_until <= now),
    )


def run_one(job_id: int) -> bool:
    """Take one job, run it, and delete it; True when it was done (its row is gone).

    The job is taken in a write unit of its own (a claim that other workers respect), so that the
    handler's slow part (rendering and signing a record) holds no lock; the handler opens its own
    write units, and the row is deleted after it returns. A crash in between leaves the claim to run
    out and the job to be done again, which handlers allow (they read the current state).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context():
        now = utcnow()
        with db.write():
            taken = db.session().execute(
                update(OutboxJob)
                .where(OutboxJob.id == job_id, _due_now(now))
                .values(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS))
                .returning(OutboxJob.kind, OutboxJob.ref, OutboxJob.attempts)
            ).first()
        if taken is None:
            return False  # done or taken by another worker meanwhile, or not due
        kind, ref, attempts = taken
        try:
            HANDLERS[kind](ref)
        except Exception as error:
            log.exception("outbox job %s %s(%s) failed (attempt %d)", job_id, kind, ref, attempts + 1)
            _postpone(job_id, attempts + 1, error)
            return False
        with db.write():
            db.session().execute(delete(OutboxJob).where(OutboxJob.id == job_id))
        return True


def _postpone(job_id: int, attempts: int, error: Exception) -> None:
    with current_app.app_context(), db.write():
        delay = RETRY_SECONDS[min(attempts, len(RETRY_SECONDS)) - 1]
        db.session().execute(
            update(OutboxJob)
            .where(OutboxJob.id == job_id)
            .values(
                attempts=attempts,
                not_before=utcnow() + dt.timedelta(seconds=delay),
                claimed_until=None,
                last_error=f"{type(error).__name__}: {error}"[:2000],
            )
        )


def wait_idle(timeout: float) -> bool:
    """Wake the worker and wait up to ``timeout`` seconds until no job is due (what a job owed, too).

    Returns False at once when this app runs no worker (nobody would do the jobs while it waits).
    """
    if not current_app.config.get("OUTBOX_WORKER", True):
        return False
    kick()
    deadline = time.monotonic() + timeout
    while _due():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _due() -> int:
    """Jobs due now or being run (claimed): what a wait for the worker waits for."""
    now = utcnow()
    running = and_(OutboxJob.claimed_until.is_not(None), OutboxJob.claimed_until > now)
    with db.read_session() as session:
        return session.scalar(select(func.count(OutboxJob.id)).where(or_(_due_now(now), running)))


def wait_done(kind: str, ref: int, timeout: float) -> bool:
    """Wake the worker and wait up to ``timeout`` seconds until job ``kind`` for ``ref`` is done.

    Returns False at once when this app runs no worker.
    """
    if not current_app.config.get("OUTBOX_WORKER", True):
        return False
    kick()
    deadline = time.monotonic() + timeout
    while pending([kind], ref):
        if time.monotonic() >= deadline or failed_attempts(kind, ref):
            return False  # a failed job waits for its retry time: no use waiting here
        time.sleep(0.05)  # cooperative under gevent; another process's worker may be the one doing it
    return True


# --- the worker --------------------------------------------------------------------------------

_live: weakref.WeakSet[Worker] = weakref.WeakSet()


class Worker:
    """The background runner of one app's outbox (``worker_for``).  Thread- and greenlet-safe."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._cond = threading.Condition()
        self._requested = 0
        self._served = 0
        self._thread: threading.Thread | None = None
        self._stopping = False

    def request(self) -> None:
        """Ask for a round over every job committed so far; return at once."""
        with self._cond:
            if self._stopping:
                return
            self._requested += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="workspace-outbox", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    def _run(self) -> None:
        retry_in: float | None = None  # a failed job is due again in this many seconds
        while True:
            with self._cond:
                if self._served >= self._requested and not self._stopping:
                    idle = IDLE_EXIT_SECONDS if retry_in is None else min(retry_in, IDLE_EXIT_SECONDS)
                    self._cond.wait(idle)
                if self._stopping or (self._served >= self._requested and retry_in is None):
                    self._thread = None
                    return
                target = self._requested
            try:
                with self._app.app_context():
                    run_due()
                    retry_in = _next_retry_in()
            except Exception:  # the rows stay; the next request or start retries
                log.exception("outbox round failed")
                retry_in = float(RETRY_SECONDS[0])
            with self._cond:
                self._served = max(self._served, target)
                self._cond.notify_all()


def _next_retry_in() -> float | None:
    with db.read_session() as session:
        earliest = session.scalar(
            select(func.min(OutboxJob.not_before)).where(OutboxJob.kind.in_(list(HANDLERS)))
        )
    if earliest is None:
        return None
    return max(0.0, (earliest - utcnow()).total_seconds())


def worker_for(app: Flask) -> Worker:
    """Return the outbox worker of ``app`` (one per app)."""
    worker = app.extensions.get("outbox_worker")
    if worker is None:
        worker = app.extensions["outbox_worker"] = Worker(app)
        _live.add(worker)
    return worker


def stop_worker(app: Flask) -> None:
    """Stop ``app``'s worker after its current job (before the app's database goes away)."""
    worker = app.extensions.pop("outbox_worker", None)
    if worker is not None:
        worker.stop()


@atexit.register
def _stop_all() -> None:
    for worker in list(_live):
        worker.stop()
