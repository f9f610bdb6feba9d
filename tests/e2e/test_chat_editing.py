"""Editing in the browser: in place (several lines, 保存/キャンセル, Esc), never window.prompt; delete after
an accessible confirmation; an empty send says why nothing happened."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import axe_violations
from tests.e2e.chat_support import SIZES, department_channel, open_chat, post, shot, token

# window.prompt / confirm would block the page; any call is recorded so the test can refuse it.
NO_BLOCKING_DIALOGS = """() => {
    window.__blocking = [];
    window.prompt = (...a) => { window.__blocking.push('prompt'); return null; };
    window.confirm = (...a) => { window.__blocking.push('confirm'); return false; };
}"""


@pytest.mark.parametrize("width,height", SIZES)
def test_edit_in_place_confirm_delete_and_explain_an_empty_send(
    browser: Any, live_server: Any, width: int, height: int
) -> None:
    """Can I edit my message in place over two lines, cancel with Esc, and delete only after confirming?"""
    base = live_server.url
    yamada_api = token(base, "yamada")
    channel = department_channel(base, yamada_api)
    mine = post(base, yamada_api, channel, "明日の会議は10時から")
    page = open_chat(browser, base, "yamada", width, height)
    page.evaluate(NO_BLOCKING_DIALOGS)
    try:
        expect(page.locator(f"#message-{mine['id']}")).to_be_visible()
        # An empty send says why nothing happened.
        page.get_by_role("button", name="送信", exact=True).click()
        expect(page.get_by_role("alert").filter(has_text="メッセージを入力してください。")).to_be_visible()
        expect(page.locator("#message-list li.message")).to_have_count(1)

        item = page.locator(f"#message-{mine['id']}")
        item.get_by_role("button", name="編集").click()
        editor = item.get_by_role("textbox", name="メッセージを編集")
        expect(editor).to_be_focused()
        expect(editor).to_have_value("明日の会議は10時から")
        expect(item.get_by_role("button", name="削除")).to_be_hidden()  # one thing at a time
        editor.press("End")
        editor.press("Enter")  # a new line in the editor, not a save
        editor.type("場所は第1会議室です")
        expect(editor).to_have_value("明日の会議は10時から\n場所は第1会議室です")
        assert axe_violations(page) == []
        shot(page, f"chat-edit-{width}")
        editor.press("Escape")  # cancels: the text stays as it was
        expect(editor).not_to_be_attached()
        expect(item.locator(".message-body")).to_have_text("明日の会議は10時から")
        expect(item.get_by_role("button", name="編集")).to_be_focused()

        item.get_by_role("button", name="編集").click()
        editor = item.get_by_role("textbox", name="メッセージを編集")
        editor.fill("明日の会議は10時から\n場所は第1会議室です")
        item.get_by_role("button", name="保存").click()
        expect(item.locator(".message-body")).to_have_text("明日の会議は10時から\n場所は第1会議室です")
        expect(item).to_contain_text("（編集済み）")

        item.get_by_role("button", name="削除").click()
        dialog = page.get_by_role("dialog", name="メッセージの削除")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("このメッセージを削除しますか？")
        assert axe_violations(page) == []
        shot(page, f"chat-delete-confirm-{width}")
        dialog.get_by_role("button", name="キャンセル").click()
        expect(dialog).to_be_hidden()
        expect(item.locator(".message-body")).to_contain_text("場所は第1会議室です")
        item.get_by_role("button", name="削除").click()
        dialog.get_by_role("button", name="削除する").click()
        expect(item.locator(".message-body")).to_have_text("このメッセージは削除されました")
        assert page.evaluate("window.__blocking") == []
    finally:
        page.context.close()
