"""`workspace files sweep`: files no row refers to (a crash between write and commit) are removed, once
they are older than the grace period; every file a row refers to stays, in all three stores."""

from __future__ import annotations

import hashlib
import io
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from approvals import attachment_store
from chat import files as chat_files
from docsearch import files as doc_files
from tests.conftest import api_token
from workspace import db
from workspace.models import AuditEntry

DAY = 24 * 3600


def _plant(path: Path, data: bytes, age_seconds: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    when = time.time() - age_seconds
    os.utime(path, (when, when))
    return path


def _orphan(path_for: Any, text: str, age_seconds: float = 2 * DAY) -> Path:
    data = text.encode()
    return _plant(path_for(hashlib.sha256(data).hexdigest()), data, age_seconds)


def _age(path: Path, seconds: float) -> None:
    when = time.time() - seconds
    os.utime(path, (when, when))


def _kept_files(client: Any) -> list[Path]:
    """One file a row refers to in each store, made through the public API, then aged."""
    headers = {"Authorization": f"Bearer {api_token(client, 'yamada')}"}
    doc = client.post(
        "/api/v1/documents",
        data={
            "file": (io.BytesIO("台帳".encode()), "daicho.txt"),
            "title": "台帳",
            "department_code": "01",
            "fiscal_year": "2026",
            "classification": "",
            "retention_years": "5",
            "visibility": "internal",
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert doc.status_code == 201, doc.get_json()
    draft = client.post(
        "/api/v1/approvals", json={"route": "general", "title": "備品購入", "body": "…"}, headers=headers
    )
    request_id = draft.get_json()["id"]
    attached = client.post(
        f"/api/v1/approvals/{request_id}/attachments",
        data={"file": (io.BytesIO(b"estimate,1\n"), "mitsumori.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert attached.status_code == 201, attached.get_json()
    channel = next(
        c["id"]
        for c in client.get("/api/v1/channels", headers=headers).get_json()["channels"]
        if c["kind"] == "department"
    )
    posted = client.post(
        f"/api/v1/channels/{channel}/attachments",
        data={"file": (io.BytesIO(b"memo\n"), "memo.txt")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert posted.status_code == 201, posted.get_json()
    kept = [
        doc_files.path_for(doc.get_json()["sha256"]),
        attachment_store.path_for(attached.get_json()["sha256"]),
        chat_files.path_for(hashlib.sha256(b"memo\n").hexdigest()),
    ]
    for path in kept:
        assert path.exists()
        _age(path, 30 * DAY)
    return kept


def test_sweep_removes_old_orphans_and_stale_uploads_only(app: Any, client: Any, village: Any) -> None:
    """Are old unreferenced files and stale uploads removed, while referenced and recent files stay"""
    from approvals import route_store

    route_store.install_defaults()
    db.session().commit()
    kept = _kept_files(client)
    orphans = [
        _orphan(doc_files.path_for, "disposed document left by a crash"),
        _orphan(attachment_store.path_for, "attachment of a rolled-back draft"),
        _orphan(chat_files.path_for, "chat upload never posted"),
    ]
    recent = _orphan(doc_files.path_for, "an upload whose transaction still runs", age_seconds=60)
    stale = _plant(doc_files.store_root() / "tmp" / "upload-abc", b"half an upload", 3 * DAY)
    fresh_tmp = _plant(chat_files.store_root() / "tmp" / "upload-now", b"in flight", 10)

    dry = app.test_cli_runner().invoke(args=["files", "sweep", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove 3 unreferenced files and 1 stale uploads" in dry.output
    assert all(p.exists() for p in orphans + [stale])

    result = app.test_cli_runner().invoke(args=["files", "sweep"])
    assert result.exit_code == 0, result.output
    assert "removed 3 unreferenced files and 1 stale uploads" in result.output
    assert not any(p.exists() for p in orphans + [stale])
    assert all(p.exists() for p in [*kept, recent, fresh_tmp])
    db.session().commit()
    entry = db.session().execute(select(AuditEntry).where(AuditEntry.action == "files.sweep")).scalar_one()
    assert entry.actor == "cli" and len(entry.detail["orphans"]) == 3

    again = app.test_cli_runner().invoke(args=["files", "sweep"])
    assert "removed 0 unreferenced files and 0 stale uploads" in again.output


def test_grace_period_under_an_hour_is_refused(app: Any) -> None:
    """Is a grace period too short to protect running uploads refused before anything is touched"""
    orphan = _orphan(doc_files.path_for, "old orphan")
    result = app.test_cli_runner().invoke(args=["files", "sweep", "--min-age-hours", "0.1"])
    assert result.exit_code == 2 and "min-age-hours" in result.output
    assert orphan.exists()
