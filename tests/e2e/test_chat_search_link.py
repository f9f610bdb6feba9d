"""Browser journey: a chat message found by search opens in its channel, even far back in history."""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.conftest import PASSWORD, axe_violations, sign_in_page


def _token(base: str, username: str) -> dict[str, str]:
    response = requests.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _department_channel(base: str, headers: dict[str, str]) -> int:
    channels = requests.get(f"{base}/api/v1/channels", headers=headers, timeout=30).json()["channels"]
    return next(c["id"] for c in channels if c["kind"] == "department")


def _post(base: str, headers: dict[str, str], channel_id: int, body: str) -> int:
    response = requests.post(
        f"{base}/api/v1/channels/{channel_id}/messages", json={"body": body}, headers=headers, timeout=30
    )
    assert response.status_code == 201, response.text
    time.sleep(0.06)  # stay well inside the per-user rate limit
    return response.json()["id"]


def test_search_hit_opens_the_message_in_its_channel(live_server: Any, page: Any) -> None:
    """Does a search hit for an old chat message open that channel and focus that message"""
    base = live_server.url
    yamada = _token(base, "yamada")
    channel_id = _department_channel(base, yamada)
    target = _post(base, yamada, channel_id, "防災倉庫の鍵は総務課の金庫にあります")
    for n in range(60):  # more than one page of history (50) after it
        _post(base, yamada, channel_id, f"連絡 {n}")

    sign_in_page(page, base, "suzuki")
    # The index is kept up to date after commit; allow the drain a moment before the first hit.
    deadline = time.monotonic() + 30
    while True:
        page.goto(base + "/search?q=防災倉庫&type=message")
        if page.locator("#results li a").count() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(300)
    link = page.locator("#results li a").first
    assert link.get_attribute("href") == f"/chat/?channel={channel_id}#message-{target}"
    link.click()

    page.wait_for_selector(f"#message-{target}.message-target")
    assert page.evaluate("document.activeElement.id") == f"message-{target}"
    assert page.locator("#channel-title").inner_text() == "総務課"
    assert "防災倉庫の鍵" in page.inner_text(f"#message-{target} .message-body")
    assert axe_violations(page) == []


def test_a_link_to_a_channel_not_mine_opens_my_own(live_server: Any, page: Any) -> None:
    """Does a link to another 課's channel show nothing of it"""
    base = live_server.url
    tanaka = _token(base, "tanaka")  # 02, not 総務課
    other_channel = _department_channel(base, tanaka)
    secret = _post(base, tanaka, other_channel, "他課の内部連絡です")

    sign_in_page(page, base, "yamada")
    page.goto(f"{base}/chat/?channel={other_channel}#message-{secret}")
    page.wait_for_selector("#channel-list button[aria-current=true]")
    assert page.locator("#channel-title").inner_text() == "総務課"
    page.wait_for_timeout(500)
    assert "他課の内部連絡" not in page.content()
