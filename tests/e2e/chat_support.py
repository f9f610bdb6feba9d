"""Helpers of the chat browser tests: people signed in through the real form, messages through the API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.conftest import PASSWORD
from workspace import ROOT

SHOTS = Path(ROOT) / "screenshots"
SIZES = [(1366, 900), (390, 844)]


def token(base: str, username: str) -> dict[str, str]:
    """Bearer headers for ``username``."""
    response = requests.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def department_channel(base: str, headers: dict[str, str]) -> int:
    """The id of the caller's 課 channel."""
    channels = requests.get(f"{base}/api/v1/channels", headers=headers, timeout=30).json()["channels"]
    return next(c["id"] for c in channels if c["kind"] == "department")


def post(base: str, headers: dict[str, str], channel_id: int, body: str, **extra: Any) -> dict[str, Any]:
    """Post a message through the API and return it."""
    response = requests.post(
        f"{base}/api/v1/channels/{channel_id}/messages",
        json={"body": body, **extra},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json()


def open_chat(
    browser: Any,
    base: str,
    username: str,
    width: int,
    height: int,
    prepare: Callable[[Any], None] | None = None,
    **context: Any,
) -> Any:
    """A new browser context signed in as ``username`` with the chat page open; returns the page.

    ``prepare(page)`` runs after sign-in, just before the chat page is opened (to route its requests).
    """
    ctx = browser.new_context(
        locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": width, "height": height}, **context
    )
    page = ctx.new_page()
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    if prepare is not None:
        prepare(page)
    page.goto(base + "/chat/")
    page.wait_for_selector("#channel-list button[aria-current=true]")
    return page


def shot(page: Any, name: str) -> None:
    """Screenshots for the reviewer (README: 画面の確認): NAME.png the full page, NAME-screen.png the
    screen as the person sees it.

    A full-page capture keeps sticky and fixed boxes where the screen's bottom was, on top of the
    page below it; for that picture the composer is laid out in its place in the page instead.
    """
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-screen.png"))
    page.evaluate(
        """() => { const s = document.createElement('style'); s.id = 'shot-flat';
        s.textContent = '.composer { position: static !important; }'; document.head.appendChild(s); }"""
    )
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.evaluate("() => document.getElementById('shot-flat').remove()")
