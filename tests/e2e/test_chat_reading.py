"""Reading the chat: 和暦 date lines in Japan time, the ここから未読 line, and a jump to the first unread."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import update

from chat.models import Message
from tests.conftest import axe_violations
from tests.e2e.chat_support import SIZES, department_channel, open_chat, post, shot, token
from workspace import db
from workspace.calendar import JST


def _set_time(message_id: int, when: dt.datetime) -> None:
    db.session().execute(update(Message).where(Message.id == message_id).values(created_at=when))
    db.session().commit()


def _one_message_read_by_yamada(base: str) -> tuple[dict[str, str], int]:
    """佐藤 posts in the 課 channel and 山田 reads up to it; returns 佐藤's headers and the channel."""
    sato, yamada_api = token(base, "sato"), token(base, "yamada")
    channel = department_channel(base, sato)
    seen = post(base, sato, channel, "既に読んだ連絡")
    requests.post(
        f"{base}/api/v1/channels/{channel}/read",
        json={"last_read_id": seen["id"]},
        headers=yamada_api,
        timeout=30,
    )
    return sato, channel


@pytest.mark.parametrize("width,height", SIZES)
def test_date_lines_in_wareki_and_the_unread_line(
    browser: Any, live_server: Any, width: int, height: int
) -> None:
    """Are days headed 令和8年12月2日（水） in JST, and is ここから未読 before my first unread message?"""
    base = live_server.url
    sato, yamada_api = token(base, "sato"), token(base, "yamada")
    channel = department_channel(base, sato)
    old = post(base, sato, channel, "昨日の連絡：議事録を共有しました")
    early = post(base, sato, channel, "おはようございます。本日の予定です")
    later = post(base, sato, channel, "午後の会議は第2会議室です")
    _set_time(old["id"], dt.datetime(2026, 12, 2, 17, 0, tzinfo=JST))
    # 08:00 JST is still 2 December in UTC: the line must follow Japan's day, not the PC's or UTC's.
    _set_time(early["id"], dt.datetime(2026, 12, 3, 8, 0, tzinfo=JST))
    _set_time(later["id"], dt.datetime(2026, 12, 3, 13, 30, tzinfo=JST))
    read = requests.post(
        f"{base}/api/v1/channels/{channel}/read",
        json={"last_read_id": old["id"]},
        headers=yamada_api,
        timeout=30,
    )
    assert read.status_code == 200
    page = open_chat(browser, base, "yamada", width, height)
    try:
        days = page.locator("#message-list .day-separator")
        expect(days).to_have_text(["令和8年12月2日（水）", "令和8年12月3日（木）"])
        # Each date line heads the first message of its day.
        expect(page.locator(f"#message-{old['id']} .day-separator")).to_have_text("令和8年12月2日（水）")
        expect(page.locator(f"#message-{early['id']} .day-separator")).to_have_text("令和8年12月3日（木）")
        expect(page.locator(f"#message-{early['id']} .message-time")).to_have_text("08:00")
        line = page.locator("#message-list .unread-line")
        expect(line).to_have_count(1)
        expect(line).to_have_text("ここから未読")
        expect(page.locator(f"#message-{early['id']} .unread-line")).to_be_attached()
        page.get_by_role("button", name="最初の未読へ移動").click()
        expect(page.locator(f"#message-{early['id']}")).to_be_focused()
        expect(page.get_by_role("button", name="最初の未読へ移動")).to_be_hidden()
        assert page.get_by_role("heading", name="令和8年12月3日（木）").count() == 1
        assert axe_violations(page) == []
        shot(page, f"chat-reading-{width}")
    finally:
        page.context.close()


def test_jump_to_unread_pages_back_to_a_message_before_the_loaded_page(
    browser: Any, live_server: Any, village: dict[str, Any]
) -> None:
    """With more unread than one page, does the jump load older history and land on the first unread?"""
    base = live_server.url
    sato, channel = _one_message_read_by_yamada(base)
    first_unread = post(base, sato, channel, "未読の最初の連絡")
    # More than a page (50) after it, written straight into the database (past the send rate limit).
    for n in range(55):
        db.session().add(Message(channel_id=channel, author_id=village["sato"].id, body=f"連絡 {n}"))
    db.session().commit()
    page = open_chat(browser, base, "yamada", 1366, 900)
    try:
        expect(page.locator(f"#message-{first_unread['id']}")).not_to_be_attached()
        page.get_by_role("button", name="最初の未読へ移動").click()
        expect(page.locator(f"#message-{first_unread['id']}")).to_be_focused()
        expect(page.locator(f"#message-{first_unread['id']} .unread-line")).to_have_text("ここから未読")
        expect(page.locator("#message-list .unread-line")).to_have_count(1)
    finally:
        page.context.close()


def test_the_unread_line_survives_a_reconnect_while_the_channel_opens(
    browser: Any, live_server: Any
) -> None:
    """If the socket reconnects while the channel is still loading, is ここから未読 still drawn?

    The reconnect catch-up used to run then too: it marked the channel read before its read position
    was fetched, so the line never appeared (seen on a loaded CI machine). Here the channel's details
    are held back until the socket is connected and its catch-up would have had time to mark read.
    """
    base = live_server.url
    sato, channel = _one_message_read_by_yamada(base)
    unread = post(base, sato, channel, "まだ読んでいない連絡")
    held: list[Any] = []

    def hold(route: Any) -> None:
        if held:
            route.continue_()  # only the first load is held back
        else:
            held.append(route)

    page = open_chat(
        browser,
        base,
        "yamada",
        1366,
        900,
        prepare=lambda p: p.route(re.compile(rf"/api/v1/channels/{channel}$"), hold),
    )
    try:
        page.wait_for_function("() => window.workspace && window.workspace.socket.connected")
        # A network blip now: the socket reconnects while the channel is still opening.
        page.evaluate("() => { window.workspace.socket.disconnect(); window.workspace.socket.connect(); }")
        page.wait_for_function("() => window.workspace.socket.connected")
        page.wait_for_timeout(1500)  # room for the old catch-up's markRead (300 ms) to happen
        assert len(held) == 1
        held[0].continue_()
        expect(page.locator(f"#message-{unread['id']} .unread-line")).to_have_text("ここから未読")
    finally:
        page.context.close()
