"""Attaching while the drafter submits, as real parallel requests against the real server.

The frozen list must be exactly the attachments that exist: an upload either lands before 起案 (and
is frozen with it) or is refused with 409 — never a row the frozen list does not know.
"""

from __future__ import annotations

import threading
from typing import Any

import requests

from approvals import route_store
from approvals.models import ApprovalAttachment, ApprovalRequest
from tests.approvals import test_service_support as support
from tests.approvals.test_service_support import GENERAL, bearer
from tests.conftest import PASSWORD
from workspace import db

app_config = support.app_config
shared_keys = support.shared_keys


def test_uploads_racing_the_submission_are_frozen_or_refused(
    live_server: Any, village: dict[str, Any]
) -> None:
    """With 8 uploads and 1 submit at once: is every 201 in the frozen list and every other answer 409?"""
    route_store.save(GENERAL, village["admin"])
    db.session().commit()
    token = requests.post(
        f"{live_server.url}/api/v1/auth/token", json={"username": "yamada", "password": PASSWORD}, timeout=30
    ).json()["token"]
    headers = bearer(token)
    base = f"{live_server.url}/api/v1/approvals"
    request_id = requests.post(
        base, json={"route": "general", "title": "競合"}, headers=headers, timeout=30
    ).json()["id"]
    barrier = threading.Barrier(9)
    uploads: list[Any] = [None] * 8
    submitted: list[Any] = [None]

    def upload(i: int) -> None:
        with requests.Session() as http:
            barrier.wait()
            uploads[i] = http.post(
                f"{base}/{request_id}/attachments",
                files={"file": (f"memo{i}.txt", f"メモ {i}".encode())},
                headers=headers,
                timeout=120,
            )

    def submit() -> None:
        with requests.Session() as http:
            barrier.wait()
            submitted[0] = http.post(f"{base}/{request_id}/submit", headers=headers, timeout=120)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(8)]
    threads.append(threading.Thread(target=submit))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)

    assert submitted[0].status_code == 200
    assert {r.status_code for r in uploads} <= {201, 409}
    accepted = sorted(r.json()["id"] for r in uploads if r.status_code == 201)
    db.session().expire_all()
    row = db.session().get(ApprovalRequest, request_id)
    rows = db.session().query(ApprovalAttachment).filter_by(request_id=request_id).all()
    assert sorted(a.id for a in rows) == accepted
    assert sorted(item["id"] for item in row.attachments_frozen) == accepted
    db.session().commit()
