"""発言の書き出し as a 管理 background job (chat.export): started through the API, run in a real child
interpreter, its file written under DATA_DIR and downloaded by administrators only, audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from workspace import db
from workspace.admin import jobs
from workspace.models import AuditEntry


def _soumu_with_messages(people: dict[str, Any]) -> int:
    yamada = people["yamada"]
    soumu = yamada.channel_id("総務課")
    first = yamada.post(f"/channels/{soumu}/messages", {"body": "会議は10時からです"}).get_json()["id"]
    yamada.post(f"/channels/{soumu}/messages", {"body": "=SUM(A1) 資料"})
    assert yamada.delete(f"/messages/{first}").status_code == 204
    return soumu


def test_export_job_writes_the_file_and_only_an_admin_downloads_it(app: Any, people: dict[str, Any]) -> None:
    soumu = _soumu_with_messages(people)
    admin = people["admin"]
    started = admin.post("/admin/chat/exports", {"channel_id": soumu, "format": "json"})
    assert started.status_code == 202, started.get_json()
    job = started.get_json()["job"]
    assert job["kind"] == "chat.export" and job["label"] == "発言の書き出し"
    ended = jobs.wait(job["id"], 60)
    assert ended is not None and ended.state == "done", ended and ended.error
    result = admin.get(f"/admin/jobs/{job['id']}").get_json()["result"]
    assert result["messages"] == 2 and result["format"] == "json"
    path = Path(app.config["DATA_DIR"]) / "exports" / "chat" / result["file"]
    assert path.is_file() and path.stat().st_size == result["size"]
    download = admin.get(f"/admin/chat/exports/{job['id']}/file")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    document = json.loads(download.get_data(as_text=True))
    assert document["exported_by"] == "admin" and document["criteria"]["channel_id"] == soumu
    assert [m["body"] for m in document["messages"]] == ["会議は10時からです", "=SUM(A1) 資料"]
    assert document["messages"][0]["deleted"] is True  # evidence: a deleted message keeps its body
    assert people["yamada"].get(f"/admin/chat/exports/{job['id']}/file").status_code == 403
    with db.read_session() as session:
        entries = list(
            session.execute(select(AuditEntry).where(AuditEntry.action == "chat.export")).scalars()
        )
        starts = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "admin.job.start")
        ).all()
    assert [(e.actor, e.target, e.detail["via"], e.detail["messages"]) for e in entries] == [
        ("admin", f"channel:{soumu}", "admin", 2)
    ]
    assert {"kind": "chat.export"} in starts


def test_a_csv_export_of_a_person(app: Any, people: dict[str, Any]) -> None:
    _soumu_with_messages(people)
    admin = people["admin"]
    job = admin.post("/admin/chat/exports", {"username": "yamada", "format": "csv"}).get_json()["job"]
    ended = jobs.wait(job["id"], 60)
    assert ended is not None and ended.state == "done", ended and ended.error
    download = admin.get(f"/admin/chat/exports/{job['id']}/file")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    text = download.get_data(as_text=True)
    assert text.startswith("\ufeffid,") and "'=SUM(A1) 資料" in text  # a formula is neutralised
    assert ended.result["download_name"].startswith("chat-export-user-yamada-")


def test_bad_criteria_start_nothing(app: Any, people: dict[str, Any]) -> None:
    admin = people["admin"]
    cases = [
        ({}, 400, "target"),
        ({"channel_id": 1, "username": "yamada"}, 400, "target"),
        ({"channel_id": 999999}, 404, "channel_id"),
        ({"username": "nobody"}, 404, "username"),
        ({"username": "yamada", "from": "2026-13-01"}, 400, "from"),
        ({"username": "yamada", "from": "2026-05-02", "to": "2026-05-01"}, 400, "to"),
        ({"username": "yamada", "format": "xml"}, 400, "format"),
    ]
    for body, status, field in cases:
        response = admin.post("/admin/chat/exports", body)
        assert response.status_code == status, (body, response.get_json())
        assert response.get_json()["error"]["field"] == field
    assert jobs.latest("chat.export") is None


def test_a_file_is_only_given_for_a_finished_export_job(app: Any, people: dict[str, Any]) -> None:
    admin = people["admin"]
    app.config["ADMIN_JOBS_RUN"] = False  # the job stays queued
    job = admin.post("/admin/chat/exports", {"username": "yamada"}).get_json()["job"]
    assert admin.get(f"/admin/chat/exports/{job['id']}/file").status_code == 404
    again = admin.post("/admin/chat/exports", {"username": "sato"}).get_json()
    assert again["started"] is False and again["job"]["id"] == job["id"]  # one export at a time
    verify = admin.post("/admin/audit/verify").get_json()["job"]  # a job of another kind: no file
    assert admin.get(f"/admin/chat/exports/{verify['id']}/file").status_code == 404
    assert admin.get("/admin/chat/exports/999999/file").status_code == 404
