"""Approvals plugged into the shell: demo routes and the header's 通知 count."""

from __future__ import annotations

from tests.conftest import csrf_from, login
from workspace import db


def test_demo_village_comes_with_the_default_routes(app, client):
    assert app.test_cli_runner().invoke(args=["demo", "--empty", "--no-serve"]).exit_code == 0
    login(client, "yamada", "demo-2026-mura")
    keys = {r["key"] for r in client.get("/api/v1/approval-routes").get_json()["routes"]}
    assert {"general", "expense", "contract", "personnel"} <= keys


def test_header_counts_the_notice_of_what_waits_for_me(app, client):
    assert app.test_cli_runner().invoke(args=["demo", "--empty", "--no-serve"]).exit_code == 0
    drafter = app.test_client()
    login(drafter, "yamada", "demo-2026-mura")
    token = csrf_from(drafter.get("/").get_data(as_text=True))
    created = drafter.post(
        "/api/v1/approvals",
        headers={"X-CSRFToken": token},
        json={"route": "general", "title": "備品購入", "body": "本文", "submit": True},
    )
    assert created.status_code == 201, created.get_json()
    pending = [
        a["username"] for s in created.get_json()["steps"] if s["status"] == "pending" for a in s["approvers"]
    ]
    db.session().commit()
    login(client, pending[0], "demo-2026-mura")
    html = client.get("/").get_data(as_text=True)
    assert 'id="notice-count" aria-hidden="true">1</span>' in html
    assert '<span class="visually-hidden" id="notice-count-words"> 1件</span>' in html
