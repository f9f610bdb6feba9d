"""Threads in the browser: 返信 on every message, the スレッド panel, live reply counts, replies never
under the wrong message (two people replying to two parents at once), at desktop and phone sizes."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import axe_violations
from tests.e2e.chat_support import SIZES, department_channel, open_chat, post, shot, token


def _timeline(page: Any, message_id: int) -> Any:
    return page.locator(f"#message-{message_id}")


def _reply_in_thread(page: Any, text: str, *, broadcast: bool = False) -> None:
    panel = page.get_by_role("region", name="スレッド")
    box = panel.get_by_label("スレッドへの返信")
    box.fill(text)
    if broadcast:
        panel.get_by_label("チャンネルにも投稿する").check()
    panel.get_by_role("button", name="スレッドに送信").click()
    expect(panel.locator("#thread-replies")).to_contain_text(text)


@pytest.mark.parametrize("width,height", SIZES)
def test_interleaved_replies_to_two_parents_stay_under_their_own(
    browser: Any, live_server: Any, width: int, height: int
) -> None:
    """Do two people replying to two messages at once each see only the right replies, counted live?"""
    base = live_server.url
    sato = token(base, "sato")
    channel = department_channel(base, sato)
    first = post(base, sato, channel, "議題A：年末の窓口当番について")
    second = post(base, sato, channel, "議題B：防災訓練の日程について")
    yamada = open_chat(browser, base, "yamada", width, height)
    suzuki = open_chat(browser, base, "suzuki", width, height)
    try:
        for page in (yamada, suzuki):
            expect(_timeline(page, second["id"])).to_be_visible()
            # Every message offers 返信.
            assert page.locator("#message-list li.message").count() == 2
            for message in (first, second):
                expect(
                    _timeline(page, message["id"]).get_by_role("button", name="返信", exact=True)
                ).to_be_visible()
        _timeline(yamada, first["id"]).get_by_role("button", name="返信", exact=True).click()
        panel_y = yamada.get_by_role("region", name="スレッド")
        expect(panel_y).to_contain_text("議題A")
        notify = yamada.get_by_role("button", name="デスクトップ通知を有効にする")
        if yamada.evaluate("Notification.permission") == "default":
            # Offered on a desk PC; a phone-sized screen has no desktop notifications.
            if width > 500:
                expect(notify).to_be_visible()
            else:
                expect(notify).to_be_hidden()
        if width < 500:
            # On a phone the panel takes the screen, with 閉じる in view.
            box = panel_y.bounding_box()
            assert box["width"] >= width - 1 and box["height"] >= height - 1
            expect(panel_y.get_by_role("button", name="閉じる")).to_be_in_viewport()
        else:
            _timeline(suzuki, second["id"]).get_by_role("button", name="返信", exact=True).click()
        panel_s = suzuki.get_by_role("region", name="スレッド")
        if width < 500:
            _timeline(suzuki, second["id"]).get_by_role("button", name="返信", exact=True).click()
        expect(panel_s).to_contain_text("議題B")

        # Interleaved: A1, B1, A2, B2 (B2 also posted to the channel).
        _reply_in_thread(yamada, "A1 当番表を作ります")
        _reply_in_thread(suzuki, "B1 体育館が空いています")
        _reply_in_thread(yamada, "A2 29日は私が入ります")
        _reply_in_thread(suzuki, "B2 12月14日でどうでしょう", broadcast=True)

        expect(panel_y.locator("#thread-replies li.message .message-body")).to_have_text(
            ["A1 当番表を作ります", "A2 29日は私が入ります"]
        )
        expect(panel_s.locator("#thread-replies li.message .message-body")).to_have_text(
            ["B1 体育館が空いています", "B2 12月14日でどうでしょう"]
        )
        expect(panel_y.locator("#thread-parent")).to_contain_text("議題A")
        expect(panel_y).to_contain_text("返信 2件")
        for page in (yamada, suzuki):
            # Counts on the parents, live on both pages; thread-only replies are not in the timeline.
            expect(_timeline(page, first["id"]).get_by_role("button", name="返信 2件")).to_be_attached()
            expect(_timeline(page, second["id"]).get_by_role("button", name="返信 2件")).to_be_attached()
            timeline = page.locator("#message-list")
            expect(timeline.locator("li.message")).to_have_count(3)
            expect(timeline).not_to_contain_text("A1")
            expect(timeline).not_to_contain_text("B1")
            expect(timeline.locator("li.message").last).to_contain_text("B2 12月14日でどうでしょう")
            expect(timeline.locator("li.message").last).to_contain_text("スレッドへの返信")
        assert axe_violations(yamada) == []
        yamada.evaluate("window.scrollTo(0, 0)")
        shot(yamada, f"chat-thread-{width}")

        # Closing gives focus back; the count opens the other thread, in order, nothing of A in it.
        panel_y.get_by_role("button", name="閉じる").click()
        expect(panel_y).to_be_hidden()
        _timeline(yamada, second["id"]).get_by_role("button", name="返信 2件").click()
        expect(panel_y.locator("#thread-replies li.message .message-body")).to_have_text(
            ["B1 体育館が空いています", "B2 12月14日でどうでしょう"]
        )
        expect(panel_y.locator("#thread-parent")).to_contain_text("議題B")
        # After a reload everything comes from the history: the same picture.
        suzuki.reload()
        expect(_timeline(suzuki, first["id"]).get_by_role("button", name="返信 2件")).to_be_attached()
        expect(suzuki.locator("#message-list li.message")).to_have_count(3)
        shot(suzuki, f"chat-timeline-{width}")
    finally:
        yamada.context.close()
        suzuki.context.close()


def test_a_link_to_a_reply_opens_its_thread_on_it(browser: Any, live_server: Any) -> None:
    """Does a search hit's link to a reply that is only in its thread open that thread, focused on it?"""
    base = live_server.url
    sato = token(base, "sato")
    channel = department_channel(base, sato)
    parent = post(base, sato, channel, "庁舎の暖房の点検日について")
    post(base, sato, channel, "別の話題です")
    reply = post(base, token(base, "suzuki"), channel, "点検は12月10日です", thread_id=parent["id"])
    page = open_chat(browser, base, "yamada", 1366, 900)
    try:
        page.goto(f"{base}/chat/?channel={channel}#message-{reply['id']}")
        panel = page.get_by_role("region", name="スレッド")
        expect(panel.locator("#thread-parent")).to_contain_text("庁舎の暖房の点検日について")
        expect(page.locator(f"#thread-message-{reply['id']}")).to_be_focused()
        expect(page.locator("#composer-error")).to_have_text("")
    finally:
        page.context.close()
