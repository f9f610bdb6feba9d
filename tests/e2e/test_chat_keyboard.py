"""Keyboard only, no mouse: sign in, send a chat message, open its thread with 返信, reply, close it."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import PASSWORD, axe_violations
from tests.e2e.chat_support import shot


def _tab_to(page: Any, check: str, key: str = "Tab", limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until the focused element satisfies the JS predicate ``check``."""
    for _ in range(limit):
        if page.evaluate(f"(el) => ({check})(el)", page.evaluate_handle("document.activeElement")):
            return
        page.keyboard.press(key)
    raise AssertionError(f"focus never reached {check}")


def test_send_reply_in_a_thread_and_close_it_by_keyboard(browser: Any, live_server: Any) -> None:
    """Can a person who uses no mouse send a message, reply to it in its thread and close the thread?"""
    ctx = browser.new_context(
        locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1366, "height": 900}
    )
    page = ctx.new_page()
    try:
        page.goto(live_server.url + "/login")
        _tab_to(page, "el => el.id === 'username'")
        page.keyboard.type("yamada")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/login" not in url)
        _tab_to(page, "el => el.tagName === 'A' && el.textContent.trim() === 'チャット'")
        page.keyboard.press("Enter")
        page.wait_for_selector("#channel-list button[aria-current=true]")

        _tab_to(page, "el => el.id === 'composer-input'")
        page.keyboard.type("防災訓練の資料を共有フォルダに置きました")
        page.keyboard.press("Enter")
        message = page.locator("#message-list li.message").filter(has_text="防災訓練の資料")
        expect(message).to_have_count(1)
        expect(page.locator("#composer-input")).to_have_value("")

        # Back from the composer to the message's 返信 button.
        _tab_to(
            page,
            "el => el.classList.contains('reply-button') && el.closest('li.message') !== null"
            " && el.closest('li.message').textContent.includes('防災訓練の資料')",
            key="Shift+Tab",
        )
        page.keyboard.press("Enter")
        panel = page.get_by_role("region", name="スレッド")
        expect(panel).to_be_visible()
        expect(panel.get_by_label("スレッドへの返信")).to_be_focused()
        expect(panel.locator("#thread-parent")).to_contain_text("防災訓練の資料")
        page.keyboard.type("確認しました。ありがとうございます")
        page.keyboard.press("Enter")
        expect(panel.locator("#thread-replies li.message .message-body")).to_have_text(
            ["確認しました。ありがとうございます"]
        )
        expect(message.get_by_role("button", name="返信 1件")).to_be_visible()
        assert axe_violations(page) == []
        shot(page, "chat-keyboard-thread-1366")

        page.keyboard.press("Escape")  # closes the panel; focus goes back to where it was opened
        expect(panel).to_be_hidden()
        expect(message.get_by_role("button", name="返信", exact=True)).to_be_focused()
        # The reply stays in its thread: not in the timeline.
        expect(page.locator("#message-list")).not_to_contain_text("確認しました。ありがとうございます")
    finally:
        ctx.close()
