"""Reactions in the browser: a picker of calm office reactions drawn from the app's own images and word
chips (no emoji font needed), each with a Japanese name; reactions stored as emoji still show."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import axe_violations
from tests.e2e.chat_support import SIZES, department_channel, open_chat, post, shot, token

NAMES = [
    "いいね",
    "了解",
    "お願いします",
    "ありがとう",
    "お疲れさま",
    "にっこり",
    "おめでとう",
    "確認中",
    "対応済み",
]


@pytest.mark.parametrize("width,height", SIZES)
def test_reaction_picker_offers_office_reactions_drawn_by_the_app(
    browser: Any, live_server: Any, width: int, height: int
) -> None:
    """Does the picker offer 9 named reactions whose images come from the app and render everywhere?"""
    base = live_server.url
    sato = token(base, "sato")
    channel = department_channel(base, sato)
    message = post(base, sato, channel, "来週の出張報告書を提出しました")
    # A reaction stored before the picker existed, as a plain emoji, and one the picker does not offer.
    for emoji in ("👍", "🙇"):
        answer = requests.post(
            f"{base}/api/v1/messages/{message['id']}/reactions",
            json={"emoji": emoji},
            headers=sato,
            timeout=30,
        )
        assert answer.status_code == 201
    page = open_chat(browser, base, "yamada", width, height)
    try:
        item = page.locator(f"#message-{message['id']}")
        # The old 👍 is drawn with the app's image and named in Japanese with the person's 氏名.
        old = item.get_by_role("button", name="いいね 1人: 佐藤 一郎")
        expect(old).to_be_visible()
        expect(old.locator("img")).to_have_attribute("src", "/chat/static/reactions/thumbs-up.svg")
        expect(item.get_by_role("button", name="🙇 1人: 佐藤 一郎")).to_contain_text("🙇")
        item.get_by_role("button", name="リアクションを追加").click()
        picker = item.get_by_role("group", name="リアクションを選ぶ")
        choices = picker.get_by_role("button")
        expect(choices).to_have_count(len(NAMES))
        assert [choices.nth(i).get_attribute("aria-label") for i in range(len(NAMES))] == NAMES
        expect(picker.get_by_role("button", name="いいね")).to_be_focused()
        # Every image is the app's own file and has been decoded (drawn without any emoji font).
        page.wait_for_function(
            """() => [...document.querySelectorAll('.reaction-picker img')].every(
                   (img) => img.complete && img.naturalWidth > 0
                            && new URL(img.src).pathname.startsWith('/chat/static/reactions/'))"""
        )
        assert picker.locator("img").count() == 6
        assert axe_violations(page) == []
        shot(page, f"chat-reactions-{width}")
        picker.get_by_role("button", name="了解").click()
        chip = item.get_by_role("button", name="了解 1人: 山田 太郎")
        expect(chip).to_have_text("了解1")
        expect(chip).to_have_attribute("aria-pressed", "true")
        expect(item.get_by_role("button", name="リアクションを追加")).to_be_focused()
        # Esc closes the picker without choosing.
        item.get_by_role("button", name="リアクションを追加").click()
        page.keyboard.press("Escape")
        expect(picker).not_to_be_attached()
        item.get_by_role("button", name="リアクションを追加").click()
        page.locator("#channel-title").click()  # a press elsewhere closes it too
        expect(picker).not_to_be_attached()
        chip.click()  # pressing my own reaction again takes it back
        expect(item.get_by_role("button", name="了解 1人: 山田 太郎")).not_to_be_attached()
    finally:
        page.context.close()
