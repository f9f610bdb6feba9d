"""Long 管理 work in the background: 名簿の同期, 索引の再構築, 改ざん検証 … with a live progress bar.

A kind of job is registered once (``register``) with its Japanese label and the function that does
it, named ``module:function`` so that a child interpreter can find it.  ``start(kind, actor)`` adds
an ``AdminJob`` row in a write unit; the row's ``active_kind`` (unique) makes a second start of a
kind that is still queued or running return that job instead: starting twice never runs twice,
from two tabs, two people or two processes.

After the commit a watcher (a thread; a greenlet under ``workspace serve``) starts the job in a
child interpreter built from the app's configuration (``workspace.child``), so that a CPU-bound
job (a reindex) never stalls the event loop and the job goes on when the person closes the page.
The child writes its progress and a heartbeat to the row; the watcher reads the row twice a second
and sends every change as Socket.IO ``job:progress`` to the person who started it, and the page
also asks ``GET /api/v1/admin/jobs/<id>`` (a second administrator, a page opened later).  A child
that dies leaves its job failed (the watcher sees it end; a job whose heartbeat stopped for
``STALE_SECONDS`` is failed by the next start of its kind).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, jsonify
from flask_login import current_user
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from workspace import audit, db, realtime
from workspace.admin import api_bp, api_role
from workspace.child import child_env, portable_config
from workspace.errors import ServiceError
from workspace.models import AdminJob, User, utcnow

log = logging.getLogger(__name__)

#: A running job whose child has not written its heartbeat for this long is taken as dead.
STALE_SECONDS = 60
#: How often the child writes its heartbeat, and at most how often its progress.
HEARTBEAT_SECONDS = 5.0
PROGRESS_SECONDS = 0.3
#: How often the watcher reads the row for changes to send.
WATCH_SECONDS = 0.5

STATES = ("queued", "running", "done", "failed")
STATE_LABELS = {"queued": "待機中", "running": "実行中", "done": "完了", "failed": "失敗"}


@dataclass(frozen=True)
class Kind:
    """A kind of job: its name (``directory.sync``), label (名簿の同期) and function (``module:name``)."""

    name: str
    label: str
    target: str


KINDS: dict[str, Kind] = {}


def register(name: str, label: str, target: str) -> None:
    """Register a kind of job; ``target`` (``module:function``) is called as ``fn(job: Run) -> dict``."""
    KINDS[name] = Kind(name, label, target)


class Run:
    """What a job's function gets in the child: its parameters and a way to report progress."""

    def __init__(self, job_id: int, params: dict[str, Any], requested_by: int | None) -> None:
        self.job_id = job_id
        self.params = params
        self.requested_by = requested_by
        self._last = 0.0

    def progress(self, fraction: float, message: str | None = None, *, force: bool = False) -> None:
        """Report ``fraction`` (0–1) done and what is happening; written at most every 0.3 s."""
        now = time.monotonic()
        if not force and now - self._last < PROGRESS_SECONDS:
            return
        self._last = now
        values: dict[str, Any] = {"progress": max(0.0, min(1.0, float(fraction))), "heartbeat_at": utcnow()}
        if message is not None:
            values["message"] = message[:200]
        with db.write():
            db.session().execute(update(AdminJob).where(AdminJob.id == self.job_id).values(**values))

    def every(self, items: Any, total: int, message: str | None = None) -> Any:
        """Yield ``items`` and report progress of ``total`` as they go (a progress bar over a loop)."""
        for index, item in enumerate(items):
            if total:
                self.progress(index / total, message)
            yield item


# --- starting and reading ----------------------------------------------------------------------


def start(kind: str, actor: User, params: dict[str, Any] | None = None) -> tuple[AdminJob, bool]:
    """Start a job of ``kind`` for ``actor``; return (the job, True) or (the one running, False)."""
    if kind not in KINDS:
        raise ServiceError("その種類の処理はありません。", "not_found", status=404)
    for _attempt in range(3):
        try:
            return _start(kind, actor, params or {})
        except IntegrityError:  # another process started one between our look and our insert
            continue
    raise ServiceError("処理を開始できませんでした。もう一度お試しください。", "conflict", status=409)


@db.writes
def _start(kind: str, actor: User, params: dict[str, Any]) -> tuple[AdminJob, bool]:
    session = db.session()
    running = session.scalar(select(AdminJob).where(AdminJob.active_kind == kind))
    if running is not None and not _stale(running):
        return running, False
    if running is not None:
        _finish(running, "failed", error="処理が途中で止まりました（応答がありません）。")
        session.flush()
    job = AdminJob(kind=kind, active_kind=kind, state="queued", progress=0.0, params=params, result={},
                   requested_by=actor.id)
    session.add(job)
    session.flush()
    audit.record("admin.job.start", actor=actor.username, target=f"job:{job.id}", detail={"kind": kind})
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    job_id = job.id
    db.on_commit(lambda: launch(app, job_id))
    return job, True


def _stale(job: AdminJob) -> bool:
    last = job.heartbeat_at or job.started_at or job.created_at
    return last is not None and utcnow() - last > dt.timedelta(seconds=STALE_SECONDS)


def _finish(
    job: AdminJob, state: str, *, result: dict[str, Any] | None = None, error: str | None = None
) -> None:
    job.state = state
    job.active_kind = None
    job.finished_at = utcnow()
    if state == "done":
        job.progress = 1.0
    if result is not None:
        job.result = result
    if error is not None:
        job.error = error[:2000]


def get(job_id: int) -> AdminJob | None:
    with db.read_session() as session:
        return session.get(AdminJob, job_id)


def latest(kind: str) -> AdminJob | None:
    """The newest job of ``kind`` (the page shows it: running, or how the last one ended)."""
    with db.read_session() as session:
        newest = select(AdminJob).where(AdminJob.kind == kind).order_by(AdminJob.id.desc()).limit(1)
        return session.scalar(newest)


def job_json(job: AdminJob) -> dict[str, Any]:
    """The job as the API and ``job:progress`` give it."""
    kind = KINDS.get(job.kind)
    return {
        "id": job.id,
        "kind": job.kind,
        "label": kind.label if kind else job.kind,
        "state": job.state,
        "state_label": STATE_LABELS.get(job.state, job.state),
        "progress": round(float(job.progress or 0.0), 4),
        "message": job.message,
        "result": job.result or {},
        # One sentence a job may give in its result (「652件を索引に入れ直しました。」), shown once done.
        "summary": (job.result or {}).get("summary") if job.state == "done" else None,
        "error": job.error,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


# --- the watcher (in the server) ---------------------------------------------------------------

_CHILD_PROGRAM = "from workspace.admin.jobs import child_main; child_main()"


def launch(app: Flask, job_id: int) -> None:
    """Run job ``job_id`` in a child interpreter, watched by a background thread; return at once."""
    if not app.config.get("ADMIN_JOBS_RUN", True):
        return  # tests that look at a queued job
    thread = threading.Thread(target=_watch, args=(app, job_id), name=f"admin-job-{job_id}", daemon=True)
    thread.start()


def _watch(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and program
                [sys.executable, "-c", _CHILD_PROGRAM], stdin=subprocess.PIPE, env=child_env()
            )
            assert process.stdin is not None
            # The configuration goes down the pipe, not into argv or the environment (it holds secrets).
            process.stdin.write(json.dumps({"config": portable_config(app), "job": job_id}).encode() + b"\n")
            process.stdin.close()
        except OSError as error:
            log.exception("admin job %s could not start", job_id)
            _fail_if_open(job_id, f"処理を開始できませんでした（{type(error).__name__}）。")
            _send(job_id)
            return
        sent: tuple[Any, ...] | None = None
        while True:
            try:
                process.wait(WATCH_SECONDS)
                ended = True
            except subprocess.TimeoutExpired:
                ended = False
            sent = _send(job_id, unless=sent)
            if ended:
                break
        if process.returncode != 0:
            log.warning("admin job %s: child ended with %s", job_id, process.returncode)
        if _fail_if_open(job_id, "処理が途中で止まりました。もう一度お試しください。"):
            _send(job_id)


def _fail_if_open(job_id: int, error: str) -> bool:
    with db.write():
        job = db.session().get(AdminJob, job_id)
        if job is None or job.state in ("done", "failed"):
            return False
        _finish(job, "failed", error=error)
        return True


def _send(job_id: int, unless: tuple[Any, ...] | None = None) -> tuple[Any, ...] | None:
    """Send ``job:progress`` to the person who started the job when the row changed since ``unless``."""
    job = get(job_id)
    db.end_read()
    if job is None:
        return unless
    seen = (job.state, job.progress, job.message)
    if seen != unless and job.requested_by is not None:
        realtime.notify([job.requested_by], "job:progress", job_json(job))
    return seen


def wait(job_id: int, timeout: float) -> AdminJob | None:
    """Wait until job ``job_id`` has ended (tests, the CLI); return it as it is then."""
    deadline = time.monotonic() + timeout
    while True:
        job = get(job_id)
        db.end_read()
        if job is None or job.state in ("done", "failed") or time.monotonic() >= deadline:
            return job
        time.sleep(0.1)


# --- the child ----------------------------------------------------------------------------------


def child_main() -> None:
    """The job child: build the app from the header line, run the job, write how it ended."""
    import workspace

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C to the server's group does not cut a job short
    header = json.loads(sys.stdin.readline())
    app = workspace.create_app(header["config"])
    with app.app_context():
        run_job(int(header["job"]))
    os._exit(0)  # no atexit work of the app's threads: the row says how the job ended


def run_job(job_id: int) -> None:
    """Run job ``job_id`` here, in this app context (the child; tests may call it directly)."""
    with db.write():
        job = db.session().get(AdminJob, job_id)
        if job is None or job.state != "queued":
            return
        job.state = "running"
        job.started_at = job.heartbeat_at = utcnow()
        kind, params, requested_by = job.kind, dict(job.params or {}), job.requested_by
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(current_app._get_current_object(), job_id, stop),
                            daemon=True)
    beat.start()
    try:
        module, name = KINDS[kind].target.split(":")
        fn: Callable[[Run], dict[str, Any]] = getattr(importlib.import_module(module), name)
        result = fn(Run(job_id, params, requested_by)) or {}
    except ServiceError as error:
        _end(job_id, "failed", error=error.message)
    except Exception as error:  # the job failed; the page says so, the log says why
        log.exception("admin job %s (%s) failed", job_id, kind)
        _end(job_id, "failed", error=f"処理に失敗しました（{type(error).__name__}）。")
    else:
        _end(job_id, "done", result=result)
    finally:
        stop.set()


def _end(job_id: int, state: str, **kwargs: Any) -> None:
    with db.write():
        job = db.session().get(AdminJob, job_id)
        if job is not None:
            _finish(job, state, **kwargs)


def _heartbeat(app: Flask, job_id: int, stop: threading.Event) -> None:
    with app.app_context():
        while not stop.wait(HEARTBEAT_SECONDS):
            with db.write():
                db.session().execute(
                    update(AdminJob).where(AdminJob.id == job_id, AdminJob.state == "running")
                    .values(heartbeat_at=utcnow())
                )


# --- API ----------------------------------------------------------------------------------------


@api_bp.get("/admin/jobs/<int:job_id>")
@api_role("admin", "records")
def job_view(job_id: int) -> Any:
    """A background job's state and progress.
    ---
    get:
      summary: A 管理 background job (sync, reindex, audit verification…) (role admin or records)
      tags: [admin]
      responses:
        200:
          description: >
            {"id", "kind", "label", "state": "queued"|"running"|"done"|"failed", "progress": 0–1,
            "message", "result", "error", "created_at", "started_at", "finished_at"}
        403: {description: not an administrator}
        404: {description: no such job}
    """
    job = get(job_id)
    if job is None:
        raise ServiceError("その処理は見つかりません。", "not_found", status=404)
    return jsonify(job_json(job))


def started_response(job: AdminJob, created: bool) -> Any:
    """202 ``{"job": {…}}``: the job just started, or the one of that kind already running."""
    return jsonify({"job": job_json(job), "started": created}), 202


def start_for_me(kind: str, params: dict[str, Any] | None = None) -> Any:
    """Start ``kind`` for the signed-in person and answer 202 (the API views of each kind)."""
    job, created = start(kind, current_user, params)
    return started_response(job, created)


def init_app(app: Flask) -> None:
    """Nothing per app yet: kinds register at import; the watcher needs no state of its own."""
