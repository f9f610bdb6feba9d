"""The inbox page updates itself when a new item arrives through the hub (approval:assigned)."""

from __future__ import annotations

from typing import Any

import requests

from approvals import route_store
from tests.approvals.test_service_support import GENERAL
from tests.conftest import PASSWORD, axe_violations
from workspace import db


def test_new_item_appears_in_the_open_inbox_without_reload(
    live_server: Any, village: dict[str, Any], page: Any
) -> None:
    route_store.save(GENERAL, village["admin"])
    db.session().commit()  # release SQLite's write lock for the server process
    page.goto(f"{live_server.url}/login")
    page.get_by_label("ユーザー名").fill("suzuki")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/approvals/")
    assert "処理を待っている起案はありません。" in page.locator("#inbox-pending").inner_text()
    page.wait_for_function("() => Boolean(window.workspace && window.workspace.socket.connected)")

    token = requests.post(
        f"{live_server.url}/api/v1/auth/token", json={"username": "yamada", "password": PASSWORD}, timeout=10
    ).json()["token"]
    created = requests.post(
        f"{live_server.url}/api/v1/approvals",
        headers={"Authorization": f"Bearer {token}"},
        json={"route": GENERAL["key"], "title": "防災倉庫の点検", "body": "点検結果の報告", "submit": True},
        timeout=10,
    )
    assert created.status_code == 201, created.text

    page.locator("#inbox-pending").get_by_role("link", name="防災倉庫の点検").wait_for()
    assert page.url == f"{live_server.url}/approvals/"  # no navigation happened
    assert page.locator("#notice-count").inner_text() == "1"
    assert axe_violations(page) == []
