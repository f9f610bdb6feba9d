"""Chat channels and people in the browser: @mentions in Japanese, channels made, browsed, left, and DMs.

Screenshots: screenshots/chat-mention-*.png (the candidate list and the highlighted message),
chat-channel-*.png (create, browse, leave), chat-dm-*.png (the DM dialog with two people chosen).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, axe_violations, sign_in_page
from workspace import ROOT, db, directory

SHOTS = Path(ROOT) / "screenshots"
SIZES = [(1366, 900), (390, 844)]


@pytest.fixture
def kato(village: dict[str, Any]) -> Any:
    """加藤 浩, 総務課長 with a 読み, and 読み for 田中 誠."""
    user = directory.add_local_user(
        "kato", "加藤 浩", PASSWORD, department_code="01", title="課長", display_name_kana="かとう ひろし"
    )
    directory.update_local_user("tanaka", actor="test", display_name_kana="たなか まこと")
    db.session().commit()
    return user


def _open_chat(page: Any, url: str, username: str, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, url, username)
    page.goto(url + "/chat/")
    expect(page.locator("#channel-title")).to_have_text("総務課")


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


@pytest.mark.parametrize("width,height", SIZES)
def test_at_kana_offers_kato_and_the_mention_reaches_him_highlighted_as_his_name(
    kato: Any, live_server: Any, browser: Any, page: Any, width: int, height: int
) -> None:
    """Do @かとう, @加藤 and @kato offer 加藤 浩; does Enter insert @加藤 浩, the server notify him, and the
    body show his name highlighted (and @channel as such), all text and never markup?"""
    other = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    kato_page = other.new_page()
    try:
        _open_chat(kato_page, live_server.url, "kato", 1366, 900)
        _open_chat(page, live_server.url, "yamada", width, height)
        box = page.get_by_label("メッセージ", exact=True)
        candidates = page.get_by_role("listbox", name="メンションの候補")
        kato_option = candidates.get_by_role("option", name="加藤 浩 総務課・課長")
        for typed in ("@加藤", "@kato", "＠カトウ"):
            box.fill("")
            box.press_sequentially(typed)
            expect(kato_option).to_be_visible()
            box.press("Escape")
            expect(candidates).to_be_hidden()
        box.fill("")
        box.press_sequentially("@かとう")
        expect(kato_option).to_have_attribute("aria-selected", "true")
        assert "kato" not in candidates.inner_text()
        assert axe_violations(page) == []
        _shot(page, f"chat-mention-list-{width}.png")
        box.press("Enter")  # chooses; does not send
        expect(box).to_have_value("@加藤 浩 ")
        box.press_sequentially("さん、<b>資料</b>の確認をお願いします")
        box.press("Enter")
        message = page.locator("#message-list li").last
        expect(message.locator(".message-body")).to_have_text(
            "@加藤 浩 さん、<b>資料</b>の確認をお願いします"
        )
        expect(message.locator(".mention")).to_have_text("@加藤 浩")
        assert message.locator(".message-body b").count() == 0
        # The server read the inserted 氏名 as a mention of 加藤 浩: his header badge counts it.
        expect(kato_page.locator("#notice-count")).to_have_text("1")
        expect(kato_page.locator("#message-list li .mention-me")).to_have_text("@加藤 浩")

        box.press_sequentially("@chan")
        expect(candidates.get_by_role("option", name="@channel このチャンネルの全員に通知")).to_be_visible()
        box.press("Enter")
        expect(box).to_have_value("@channel ")
        box.press_sequentially("本日17時に庁議があります")
        box.press("Enter")
        expect(page.locator("#message-list li").last.locator(".mention-channel")).to_have_text("@channel")
        assert axe_violations(page) == []
        _shot(page, f"chat-mention-message-{width}.png")
    finally:
        other.close()


@pytest.mark.parametrize("width,height", SIZES)
def test_a_channel_is_created_left_with_confirmation_and_joined_again_from_browsing(
    kato: Any, live_server: Any, page: Any, width: int, height: int
) -> None:
    """Can a public channel with 説明 be created by keyboard, left after a confirmation, found and joined?"""
    _open_chat(page, live_server.url, "yamada", width, height)
    page.get_by_role("button", name="＋ チャンネルを作成").click()
    dialog = page.get_by_role("dialog", name="チャンネルを作成")
    expect(page.get_by_label("チャンネル名")).to_be_focused()
    dialog.get_by_role("button", name="作成する").click()
    expect(dialog.get_by_role("alert").filter(has_text="チャンネル名を")).to_have_text(
        "チャンネル名を入力してください。"
    )
    page.get_by_label("チャンネル名").fill("防災訓練の準備")
    expect(dialog.get_by_text("チャンネル名を入力してください。")).to_have_count(
        0
    )  # the reason goes once mended
    page.get_by_label("説明（任意）").fill("11月の総合防災訓練について相談します")
    expect(dialog.get_by_role("radio", name="公開：職員のだれでも見つけて参加できます")).to_be_checked()
    members = dialog.get_by_role("combobox", name="最初のメンバー（任意）")
    members.press_sequentially("たなか")
    members.press("Enter")  # at once, before the candidates arrive: the first one is taken, nothing submitted
    expect(dialog.get_by_role("button", name="田中 誠 を外す")).to_be_visible()
    assert axe_violations(page) == []
    _shot(page, f"chat-channel-create-{width}.png")
    dialog.get_by_role("button", name="作成する").click()
    expect(page.locator("#channel-title")).to_have_text("防災訓練の準備")
    expect(page.locator("#channel-description")).to_have_text("11月の総合防災訓練について相談します")

    page.get_by_role("button", name="「防災訓練の準備」から退出").click()
    confirm = page.get_by_role("alertdialog", name="チャンネルから退出")
    expect(confirm).to_contain_text("「防災訓練の準備」から退出しますか？")
    confirm.get_by_role("button", name="やめる").click()
    expect(page.locator("#channel-title")).to_have_text("防災訓練の準備")  # nothing happened
    page.get_by_role("button", name="「防災訓練の準備」から退出").click()
    confirm.get_by_role("button", name="退出する").click()
    expect(page.locator("#channel-title")).to_have_text("総務課")

    page.get_by_role("button", name="チャンネルを探す").click()
    browse = page.get_by_role("dialog", name="チャンネルを探す")
    expect(browse).to_contain_text("11月の総合防災訓練について相談します")
    expect(browse).to_contain_text("1人が参加")  # 田中 stayed
    assert axe_violations(page) == []
    _shot(page, f"chat-channel-browse-{width}.png")
    browse.get_by_role("button", name="「防災訓練の準備」に参加する").click()
    expect(page.locator("#channel-title")).to_have_text("防災訓練の準備")

    page.get_by_role("button", name="＋ チャンネルを作成").click()
    page.get_by_label("チャンネル名").fill("人事の相談")
    dialog.get_by_role("radio", name="非公開：招待した人だけが見られます").check()
    dialog.get_by_role("button", name="作成する").click()
    expect(page.locator("#channel-title")).to_have_text("人事の相談")
    expect(page.locator("#channel-actions")).to_contain_text("非公開")
    assert axe_violations(page) == []
    _shot(page, f"chat-channel-private-{width}.png")


@pytest.mark.parametrize("width,height", SIZES)
def test_a_group_dm_starts_from_people_found_by_kana_and_by_department(
    kato: Any, live_server: Any, page: Any, width: int, height: int
) -> None:
    """Does the DM dialog find 田中 誠 by 課 (企画財政) and 加藤 浩 by kana, and open one conversation?"""
    _open_chat(page, live_server.url, "yamada", width, height)
    page.get_by_role("button", name="＋ ダイレクトメッセージ").click()
    dialog = page.get_by_role("dialog", name="ダイレクトメッセージを始める")
    dialog.get_by_role("button", name="開始する").click()
    expect(dialog.get_by_role("alert").filter(has_text="相手を1人以上")).to_be_visible()
    box = dialog.get_by_role("combobox", name="相手")
    expect(box).to_be_focused()
    box.press_sequentially("企画財政")
    expect(dialog.get_by_role("option", name="田中 誠 企画財政課・主事")).to_be_visible()
    box.press("Enter")
    box.press_sequentially("かとう")
    expect(dialog.get_by_role("option", name="加藤 浩 総務課・課長")).to_be_visible()
    box.press("ArrowDown")
    box.press("ArrowUp")
    box.press("Enter")
    expect(dialog.get_by_text("相手を1人以上、候補から選んでください。")).to_have_count(0)
    chosen = dialog.get_by_role("list", name="選んだ人")
    expect(chosen).to_contain_text("田中 誠（企画財政課）")
    expect(chosen).to_contain_text("加藤 浩（総務課）")
    assert axe_violations(page) == []
    _shot(page, f"chat-dm-{width}.png")
    dialog.get_by_role("button", name="開始する").click()
    expect(page.locator("#channel-title")).to_have_text("加藤 浩、田中 誠")
    expect(page.get_by_label("メッセージ", exact=True)).to_be_focused()
    expect(page.locator("#channel-actions")).to_be_empty()  # a DM is not left; no 退出
