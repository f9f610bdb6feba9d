"""The chat page in a real browser: two people, an IME composition that must not send, 既読, safety, a11y."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, axe_violations

pytestmark = pytest.mark.browser


def _sign_in(browser, url: str, username: str):
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
    page.goto(url + "/chat/")
    page.wait_for_selector("#channel-list button[aria-current=true]")
    return context, page


def test_two_people_chat_live_with_ime_safe_enter_and_kidoku(browser, live_server):
    yamada_ctx, yamada = _sign_in(browser, live_server.url, "yamada")
    suzuki_ctx, suzuki = _sign_in(browser, live_server.url, "suzuki")
    try:
        assert yamada.locator("#channel-title").inner_text() == "総務課"
        box = yamada.get_by_label("メッセージ", exact=True)
        box.focus()
        # A real IME composition through Chromium's input pipeline (CDP, as an IME drives it): the
        # browser itself fires compositionstart/update, and the Enter that confirms 変換 arrives as a
        # keydown with isComposing true and keyCode 229. It must not send.
        ime = yamada.context.new_cdp_session(yamada)
        ime.send("Input.imeSetComposition", {"text": "かいぎ", "selectionStart": 3, "selectionEnd": 3})
        yamada.evaluate("""() => {
            window.__composingEnter = false;
            document.getElementById('composer-input').addEventListener('keydown', (e) => {
                if (e.key === 'Enter' && e.isComposing) { window.__composingEnter = true; }
            });
        }""")
        for kind in ("rawKeyDown", "keyUp"):  # Enter pressed to confirm the conversion
            ime.send(
                "Input.dispatchKeyEvent",
                {"type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 229},
            )
        ime.send("Input.insertText", {"text": "会議"})  # the IME commits the converted text
        assert yamada.evaluate("window.__composingEnter") is True  # the browser did see it composing
        yamada.wait_for_timeout(300)
        assert yamada.locator("#message-list li").count() == 0
        assert box.input_value() == "会議"
        box.press("Shift+Enter")  # a new line, not a send
        box.type("は10時です")
        assert box.input_value() == "会議\nは10時です"
        assert yamada.locator("#message-list li").count() == 0
        box.press("Enter")
        yamada.wait_for_selector("#message-list li .message-body >> text=は10時です")
        expect(box).to_have_value("")
        # Suzuki sees it live, and by reading it turns yamada's 既読 0 into 既読 1.
        suzuki.wait_for_selector("#message-list li .message-body >> text=は10時です")
        yamada.wait_for_selector("#message-list li .read-count >> text=既読 1", timeout=5000)
        yamada.click("#message-list li .read-count")
        yamada.wait_for_selector("#readers-read li >> text=鈴木 花子")
        assert "佐藤 一郎" in yamada.locator("#readers-unread").inner_text()
        yamada.click("#readers-close")

        # The send button works too, and a typing notice reaches the other person.
        suzuki.get_by_label("メッセージ", exact=True).type("了解")
        yamada.wait_for_selector("#typing >> text=鈴木 花子さんが入力中…")
        suzuki.get_by_role("button", name="送信").click()
        yamada.wait_for_selector("#message-list li .message-body >> text=了解")
        assert yamada.locator("#message-list").get_attribute("aria-live") == "polite"
        assert axe_violations(yamada) == []
    finally:
        yamada_ctx.close()
        suzuki_ctx.close()


HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 1">',
    "[押してね](javascript:window.__pwned=1)",
    "javascript:window.__pwned=1",
    '<a href="javascript:window.__pwned=1">link</a>',
    "**太字** `code` https://example.jp/path?q=<b>&x=1 mailto:soumu@example.jp",
]


def test_message_text_is_shown_as_text_and_only_safe_links(browser, live_server):
    yamada_ctx, yamada = _sign_in(browser, live_server.url, "yamada")
    suzuki_ctx, suzuki = _sign_in(browser, live_server.url, "suzuki")
    try:
        box = yamada.get_by_label("メッセージ", exact=True)
        for text in HOSTILE:
            box.fill(text)
            box.press("Enter")
            yamada.wait_for_function(
                "n => document.querySelectorAll('#message-list li').length >= n", arg=HOSTILE.index(text) + 1
            )
        suzuki.wait_for_function(
            "n => document.querySelectorAll('#message-list li').length >= n", arg=len(HOSTILE)
        )
        suzuki.reload()  # the history path renders the same way as the live path
        suzuki.wait_for_function(
            "n => document.querySelectorAll('#message-list li').length >= n", arg=len(HOSTILE)
        )
        for page in (yamada, suzuki):
            bodies = page.locator("#message-list .message-body").all_inner_texts()
            assert bodies == HOSTILE
            assert page.locator("#message-list script, #message-list img").count() == 0
            hrefs = page.eval_on_selector_all("#message-list a", "links => links.map(a => a.href)")
            # A link ends where "<" begins; the rest stays text.
            assert hrefs == ["https://example.jp/path?q=", "mailto:soumu@example.jp"]
            assert page.evaluate("() => window.__pwned") is None
    finally:
        yamada_ctx.close()
        suzuki_ctx.close()
