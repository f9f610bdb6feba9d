"""管理 › チャンネル in the browser: an administrator finds the channel list from 管理, changes a private
channel's 保存期間 (a wrong value is refused next to the field), archives it, adds and removes a
member, runs 発言の書き出し with its live progress and downloads the file; a 主事 has no 管理 link
and gets 403 by URL. At 1366×900 and 390×844, with zero axe-core violations on every screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from chat import archive, channels, messages
from tests.conftest import axe_violations, sign_in_page
from workspace import db

SHOTS = Path("/tmp/shots-chat")


def _no_violations(page: Any) -> None:
    found = axe_violations(page)
    assert found == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in found]


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_an_administrator_runs_a_channel_from_the_browser(
    village: dict[str, Any], live_server: Any, page: Any, width: int, height: int
) -> None:
    """Can 管理 太郎 find 人事の相談, set its 保存期間, archive it, change its members and export it?"""
    channel, _ = channels.create_channel(village["yamada"], "人事の相談", "private", ["sato"], "異動の相談")
    messages.post(village["yamada"], channel.id, "四月の異動について相談させてください。")
    channels.create_channel(village["yamada"], None, "direct", ["tanaka"])
    db.end_read()
    SHOTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "admin")

    # 管理 › チャンネル: the list, metadata only.
    if width < 600 and page.get_by_role("button", name="メニュー").count():
        page.get_by_role("button", name="メニュー").click()
    page.get_by_role("link", name="管理", exact=True).click()
    page.get_by_role("link", name="チャンネル", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("チャンネル")
    row = page.get_by_role("row").filter(has_text="人事の相談")
    expect(row).to_contain_text("非公開")
    expect(row).to_contain_text("2人")
    expect(row).to_contain_text("無期限")
    expect(row).to_contain_text("使用中")
    expect(page.get_by_text("ダイレクトメッセージ（2人）1件")).to_be_visible()
    assert "四月の異動" not in page.content() and "田中" not in page.content()
    _no_violations(page)
    page.screenshot(path=str(SHOTS / f"admin-channels-list-{width}.png"), full_page=True)

    # One channel: a wrong 保存期間 is refused next to the field, a right one is saved.
    row.get_by_role("link", name="人事の相談").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("人事の相談")
    days = page.get_by_label("保存期間（日数）")
    days.fill("0")
    page.get_by_role("button", name="保存期間を保存").click()
    expect(page.get_by_role("alert").filter(has_text="保存期間は")).to_contain_text(
        "1〜36,500日で入力してください"
    )
    expect(page.get_by_label("保存期間（日数）")).to_have_attribute("aria-invalid", "true")
    _no_violations(page)
    page.get_by_label("保存期間（日数）").fill("3650")
    page.get_by_role("button", name="保存期間を保存").click()
    expect(page.get_by_role("status").filter(has_text="保存期間を「3,650日」にしました。")).to_be_visible()

    # Members: add 田中 誠 with the person picker, then take him out again.
    picker = page.get_by_role("combobox", name="追加する人")
    picker.press_sequentially("田中")
    option = page.get_by_role("listbox", name="追加する人").get_by_role(
        "option", name="田中 誠 企画財政課・主事"
    )
    expect(option).to_be_visible()
    picker.press("Enter")
    page.get_by_role("button", name="メンバーに追加").click()
    expect(page.get_by_role("status").filter(has_text="田中 誠 をメンバーに追加しました。")).to_be_visible()
    members = page.get_by_role("table", name="人事の相談 のメンバー（3人）")
    expect(members).to_contain_text("田中 誠")
    _no_violations(page)
    page.screenshot(path=str(SHOTS / f"admin-channels-channel-{width}.png"), full_page=True)
    page.get_by_role("button", name="田中 誠 をメンバーから外す").click()
    expect(page.get_by_role("status").filter(has_text="田中 誠 をメンバーから外しました。")).to_be_visible()
    expect(page.get_by_role("table", name="人事の相談 のメンバー（2人）")).not_to_contain_text("田中 誠")

    # Archive: the page says so, and the list shows it.
    page.get_by_role("button", name="アーカイブする").click()
    expect(page.get_by_role("status").filter(has_text="アーカイブしました。")).to_be_visible()
    expect(page.get_by_role("button", name="アーカイブを解除する")).to_be_visible()
    page.get_by_role("navigation", name="現在位置").get_by_role("link", name="チャンネル").click()
    expect(page.get_by_role("row").filter(has_text="人事の相談")).to_contain_text("アーカイブ済み")

    # 発言の書き出し: start, follow it to 完了, download.
    page.get_by_role("link", name="発言の書き出し").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("発言の書き出し")
    page.get_by_role("button", name="書き出しを始める").click()
    expect(page.get_by_role("alert").filter(has_text="書き出す対象")).to_have_text(
        "書き出す対象（チャンネルか職員）を選んでください。"
    )
    expect(page.get_by_label("対象")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("対象").select_option(label="人事の相談（非公開・アーカイブ済み）")
    page.get_by_label("CSV（Excel で開く）").check()
    page.get_by_role("button", name="書き出しを始める").click()
    status = page.get_by_role("status").filter(has_text="発言の書き出し")
    expect(status).to_contain_text("完了（1件）", timeout=30000)
    expect(page.get_by_text("対象：人事の相談")).to_be_visible()
    link = page.get_by_role("link", name="書き出したファイルをダウンロード")
    expect(link).to_be_visible()
    _no_violations(page)
    page.screenshot(path=str(SHOTS / f"admin-channels-export-{width}.png"), full_page=True)
    with page.expect_download() as download:
        link.click()
    saved = download.value.path()
    assert "四月の異動について相談させてください。" in Path(saved).read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_a_shuji_has_no_link_and_gets_403(
    village: dict[str, Any], live_server: Any, page: Any, width: int, height: int
) -> None:
    """Does 山田 (主事) see no 管理 link, and get the 403 page at /admin/channels?"""
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "yamada")
    expect(page.get_by_role("link", name="管理", exact=True)).to_have_count(0)
    for path in ("/admin/channels", "/admin/channels/export"):
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    _no_violations(page)
    page.screenshot(path=str(SHOTS / f"admin-channels-403-{width}.png"), full_page=True)


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_a_member_reads_an_archived_channel_by_its_link(
    village: dict[str, Any], live_server: Any, page: Any, width: int, height: int
) -> None:
    """Is an archived channel gone from 山田's list, yet readable (and only readable) by its link?"""
    channel, _ = channels.create_channel(village["yamada"], "旧プロジェクト", "private", ["sato"])
    message, _ = messages.post(village["sato"], channel.id, "この件は完了しました。")
    archive.set_archived(village["admin"], channel.id, True)
    db.end_read()
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "yamada")
    page.goto(live_server.url + "/chat/")
    expect(page.locator("#channel-list")).to_contain_text("総務課")
    expect(page.locator("#channel-list")).not_to_contain_text("旧プロジェクト")
    page.goto(live_server.url + f"/chat/?channel={channel.id}#message-{message.id}")
    expect(page.locator("#channel-title")).to_have_text("旧プロジェクト")
    expect(page.get_by_text("この件は完了しました。")).to_be_visible()
    expect(
        page.get_by_text("このチャンネルはアーカイブされています。読むことだけができます。")
    ).to_be_visible()
    expect(page.get_by_role("textbox", name="メッセージ")).to_be_hidden()
    _no_violations(page)
    page.screenshot(path=str(SHOTS / f"admin-channels-archived-member-{width}.png"), full_page=True)
