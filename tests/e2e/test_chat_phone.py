"""The chat on a phone (touch, 390×844): Enter makes a new line and 送信 sends, no desktop-notification
button, the composer stays on screen, and a thread takes the whole screen with 閉じる."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from chat.models import Message
from tests.conftest import axe_violations
from tests.e2e.chat_support import open_chat, shot
from workspace import db


def test_touch_keyboard_enter_is_a_new_line_and_the_button_sends(
    browser: Any, live_server: Any, village: dict[str, Any]
) -> None:
    """On a touch phone, does Enter add a line, 送信 send, and the composer stay in view?"""
    page = open_chat(browser, live_server.url, "yamada", 390, 844, is_mobile=True, has_touch=True)
    try:
        assert page.evaluate("matchMedia('(pointer: coarse)').matches") is True
        # The page would offer the button on a desk PC in this state; on a phone it does not.
        assert page.evaluate("Notification.permission") == "default"
        expect(page.get_by_role("button", name="デスクトップ通知を有効にする")).to_be_hidden()
        expect(page.locator("#composer-help")).to_have_text("Enter で改行、「送信」ボタンで送信")

        box = page.get_by_label("メッセージ", exact=True)
        box.tap()
        box.type("明日は直行します")
        box.press("Enter")
        box.type("よろしくお願いします")
        expect(box).to_have_value("明日は直行します\nよろしくお願いします")
        expect(page.locator("#message-list li.message")).to_have_count(0)  # Enter did not send
        page.get_by_role("button", name="送信", exact=True).tap()
        expect(page.locator("#message-list li.message .message-body")).to_have_text(
            ["明日は直行します\nよろしくお願いします"]
        )
        expect(box).to_have_value("")

        # A long history: scrolled to its top, the composer is still on screen (sticky at the bottom).
        db.end_read()  # see what the server committed since this test's last read
        channel = (
            db.session()
            .get(Message, int(page.locator("#message-list li.message").first.get_attribute("data-id")))
            .channel_id
        )
        for n in range(30):
            db.session().add(
                Message(channel_id=channel, author_id=village["suzuki"].id, body=f"連絡事項 {n}")
            )
        db.session().commit()
        page.reload()
        expect(page.locator("#message-list li.message")).to_have_count(31)
        page.locator("#message-list li.message").nth(5).scroll_into_view_if_needed()
        expect(page.get_by_role("button", name="送信", exact=True)).to_be_in_viewport()
        expect(box).to_be_in_viewport()
        assert axe_violations(page) == []
        shot(page, "chat-phone-390")

        # A thread on a phone: the whole screen, starting at its heading (no keyboard over it yet).
        page.locator("#message-list li.message").last.get_by_role("button", name="返信", exact=True).tap()
        panel = page.get_by_role("region", name="スレッド")
        expect(panel.get_by_role("heading", name="スレッド")).to_be_focused()
        size = panel.bounding_box()
        assert size["x"] == 0 and size["width"] >= 389 and size["height"] >= 843
        expect(panel.get_by_role("button", name="スレッドに送信")).to_be_in_viewport()
        reply = panel.get_by_label("スレッドへの返信")
        reply.tap()
        reply.type("承知しました")
        reply.press("Enter")
        expect(reply).to_have_value("承知しました\n")
        panel.get_by_role("button", name="スレッドに送信").tap()
        expect(panel.locator("#thread-replies li.message .message-body")).to_have_text(["承知しました"])
        shot(page, "chat-phone-thread-390")
        panel.get_by_role("button", name="閉じる").tap()
        expect(panel).to_be_hidden()
    finally:
        page.context.close()
