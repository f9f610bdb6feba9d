"""管理's background jobs (workspace.admin.jobs), through the API as an administrator calls them:
one run per kind at a time, a real child process, progress live over Socket.IO, the result, the audit
entry, the refusal of a 主事, and a job whose child died."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update

from tests.conftest import api_token, wait_for
from workspace import audit, db
from workspace.admin import jobs
from workspace.models import AdminJob, AuditEntry, utcnow
from workspace.realtime import socketio


def _bearer(client: Any, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(client, username)}"}


def _audit_entries(n: int) -> None:
    with db.write():
        for i in range(n):
            audit.record("test.entry", actor="admin", target=f"t{i}")


def test_verify_runs_in_a_child_and_reports_progress_and_result(app: Any, client: Any, village: Any) -> None:
    _audit_entries(30)
    headers = _bearer(client, "admin")
    ws = socketio.test_client(app, auth={"token": headers["Authorization"].split()[1]})
    started = client.post("/api/v1/admin/audit/verify", headers=headers)
    assert started.status_code == 202, started.get_json()
    job = started.get_json()["job"]
    assert job["kind"] == "audit.verify" and job["state"] in ("queued", "running")
    ended = jobs.wait(job["id"], 60)
    assert ended is not None and ended.state == "done", ended and ended.error
    body = client.get(f"/api/v1/admin/jobs/{job['id']}", headers=headers).get_json()
    assert body["state"] == "done" and body["progress"] == 1.0
    assert body["result"]["ok"] is True and body["result"]["checked"] >= 30
    heard: list[dict[str, Any]] = []

    def heard_done() -> bool:  # the watcher sends the end when it sees the child end (twice a second)
        heard.extend(e["args"][0] for e in ws.get_received() if e["name"] == "job:progress")
        return bool(heard) and heard[-1]["state"] == "done"

    assert wait_for(heard_done, 10)
    assert heard[-1]["id"] == job["id"] and heard[-1]["progress"] == 1.0
    with db.read_session() as session:
        starts = session.scalar(select(func.count()).where(AuditEntry.action == "admin.job.start"))
    assert starts == 1


def test_a_broken_chain_names_its_first_bad_entry(app: Any, client: Any, village: Any) -> None:
    _audit_entries(5)
    with db.read_session() as session:
        victim = session.scalar(select(AuditEntry.id).where(AuditEntry.target == "t2"))
    with db.write():
        db.session().execute(update(AuditEntry).where(AuditEntry.id == victim).values(target="forged"))
    headers = _bearer(client, "admin")
    job = client.post("/api/v1/admin/audit/verify", headers=headers).get_json()["job"]
    ended = jobs.wait(job["id"], 60)
    assert ended is not None and ended.state == "done"
    assert ended.result["ok"] is False and ended.result["entry_id"] == victim
    assert ended.result["problem"] == "changed" and ended.result["problem_label"]


def test_starting_twice_returns_the_running_job(app: Any, client: Any, village: Any) -> None:
    app.config["ADMIN_JOBS_RUN"] = False  # the first job stays queued while the second start comes in
    headers = _bearer(client, "admin")
    first = client.post("/api/v1/admin/audit/verify", headers=headers).get_json()
    second = client.post("/api/v1/admin/audit/verify", headers=headers).get_json()
    assert first["started"] is True and second["started"] is False
    assert second["job"]["id"] == first["job"]["id"]
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(AdminJob)) == 1


def test_a_job_whose_child_stopped_is_failed_and_replaced(app: Any, client: Any, village: Any) -> None:
    app.config["ADMIN_JOBS_RUN"] = False
    headers = _bearer(client, "admin")
    first = client.post("/api/v1/admin/audit/verify", headers=headers).get_json()["job"]
    long_ago = utcnow() - dt.timedelta(seconds=jobs.STALE_SECONDS + 5)
    with db.write():
        db.session().execute(
            update(AdminJob).where(AdminJob.id == first["id"]).values(
                state="running", started_at=long_ago, heartbeat_at=long_ago
            )
        )
    second = client.post("/api/v1/admin/audit/verify", headers=headers).get_json()
    assert second["started"] is True and second["job"]["id"] != first["id"]
    old = client.get(f"/api/v1/admin/jobs/{first['id']}", headers=headers).get_json()
    assert old["state"] == "failed" and "止まりました" in old["error"]


def test_a_child_that_dies_leaves_its_job_failed(app: Any, village: Any) -> None:
    with db.write():
        job = AdminJob(kind="audit.verify", active_kind="audit.verify", state="queued", progress=0.0,
                       params={}, result={}, requested_by=village["admin"].id)
        db.session().add(job)
    job_id = job.id
    saved = app.config.get("DATABASE_URL")
    app.config["DATABASE_URL"] = "unknown://nothing"  # the child cannot build its app and exits
    try:
        jobs.launch(app, job_id)
        ended = jobs.wait(job_id, 60)
    finally:
        app.config["DATABASE_URL"] = saved
    assert ended is not None and ended.state == "failed" and ended.active_kind is None


def test_a_clerk_may_neither_start_nor_read_jobs(app: Any, client: Any, village: Any) -> None:
    app.config["ADMIN_JOBS_RUN"] = False
    admin = _bearer(client, "admin")
    job = client.post("/api/v1/admin/audit/verify", headers=admin).get_json()["job"]
    clerk = _bearer(client, "yamada")
    assert client.post("/api/v1/admin/audit/verify", headers=clerk).status_code == 403
    assert client.get(f"/api/v1/admin/jobs/{job['id']}", headers=clerk).status_code == 403
    assert client.get("/api/v1/admin/jobs/999999", headers=admin).status_code == 404
    assert client.post("/api/v1/admin/audit/verify").status_code == 401
