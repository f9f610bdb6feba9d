"""設定 in the browser: パスワードの変更 (refusal beside the field, then a change), 通知の設定 with the
desktop notice, the 外部システム連携用のキー section; the forced change after an administrator's reset;
and a 主事 sees no 管理 link and gets 403 by URL. Screenshots go to /tmp/shots-settings/."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, axe_violations, sign_in_page
from workspace import db, directory, notifications

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("WORKSPACE_SHOTS", "/tmp/shots-settings"))
NEW = "yuki-no-hi-no-8"

MENTION = """async (body) => {
  const list = await window.workspace.api("GET", "/channels");
  const soumu = list.data.channels.find((c) => c.name === "総務課");
  return (await window.workspace.api("POST", "/channels/" + soumu.id + "/messages", {body: body})).status;
}"""


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_a_person_changes_the_password_and_the_notice_choices(
    village: dict[str, Any], live_server: Any, page: Any, width: int, height: int
) -> None:
    """Is a weak password refused beside the field, a good one accepted, and 通知の設定 saved?"""
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "yamada")
    # A 主事: no 管理 link, and 403 by URL.
    expect(page.get_by_role("banner").get_by_role("link", name="管理")).to_have_count(0)
    assert page.goto(live_server.url + "/admin").status == 403
    page.goto(live_server.url + "/settings")

    keys = page.get_by_role("region", name="外部システム連携用のキー")
    expect(keys).to_contain_text("一度だけ")
    expect(keys).to_contain_text("無効にする")
    expect(keys.get_by_role("button", name="キーを作成")).to_be_visible()
    assert axe_violations(page) == []
    _shot(page, f"settings-{width}.png")

    section = page.get_by_role("region", name="パスワードの変更")
    section.get_by_label("現在のパスワード").fill(PASSWORD)
    section.get_by_label("新しいパスワード", exact=True).fill("password123")
    section.get_by_label("新しいパスワード（確認）").fill("password123")
    section.get_by_role("button", name="パスワードを変更").click()
    section = page.get_by_role("region", name="パスワードの変更")
    expect(section.get_by_role("alert")).to_contain_text("よく使われていて推測されやすいパスワードです")
    new_box = section.get_by_label("新しいパスワード", exact=True)
    expect(new_box).to_have_attribute("aria-invalid", "true")
    expect(new_box).to_have_accessible_description(re.compile("よく使われていて推測されやすい"))
    assert axe_violations(page) == []
    _shot(page, f"settings-password-refused-{width}.png")

    section.get_by_label("現在のパスワード").fill(PASSWORD)
    section.get_by_label("新しいパスワード", exact=True).fill(NEW)
    section.get_by_label("新しいパスワード（確認）").fill(NEW)
    section.get_by_role("button", name="パスワードを変更").click()
    expect(page.get_by_role("status").filter(has_text="パスワードを変更しました。")).to_be_visible()
    db.end_read()
    from workspace.security import verify_password

    assert verify_password(directory.get_user("yamada").password_hash, NEW)

    choices = page.get_by_role("group", name="どのお知らせを「通知」に届けるか")
    expect(choices.get_by_role("checkbox", name="メンション")).to_be_checked()
    expect(choices.get_by_role("checkbox", name="決裁の到着")).to_be_checked()
    expect(choices.get_by_role("checkbox", name="デスクトップ通知")).not_to_be_checked()
    choices.get_by_role("checkbox", name="メンション").uncheck()
    page.get_by_role("button", name="通知の設定を保存").click()
    expect(page.get_by_role("status").filter(has_text="通知の設定を保存しました。")).to_be_visible()
    expect(page.get_by_role("checkbox", name="メンション")).not_to_be_checked()
    db.end_read()
    assert notifications.preferences_of(directory.get_user("yamada"))["mentions"] is False
    assert axe_violations(page) == []


def test_desktop_notices_are_asked_for_once_and_shown_while_the_tab_is_hidden(
    village: dict[str, Any], live_server: Any, browser: Any
) -> None:
    """Ticking デスクトップ通知 asks the browser; then a mention shows a desktop notice in a hidden tab."""
    context = browser.new_context(
        locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1366, "height": 900}
    )
    # The browser's own notices cannot be seen headless: record what the page asks for, and let it
    # believe its tab is in the background.
    context.add_init_script(
        """
        window.__asked = 0; window.__shown = [];
        class FakeNotification {
          constructor(title, options) { window.__shown.push({title: title, body: options.body}); }
          close() {}
        }
        FakeNotification.permission = "default";
        FakeNotification.requestPermission = () => {
          window.__asked += 1;
          FakeNotification.permission = "granted";
          return Promise.resolve("granted");
        };
        window.Notification = FakeNotification;
        """
    )
    page = context.new_page()
    sign_in_page(page, live_server.url, "yamada")
    page.goto(live_server.url + "/settings")
    assert page.evaluate("window.__asked") == 0  # never asked on load
    page.get_by_role("checkbox", name="デスクトップ通知").check()
    expect(page.locator("#pref-desktop-state")).to_have_text("このブラウザーでは表示が許可されています。")
    assert page.evaluate("window.__asked") == 1
    page.get_by_role("button", name="通知の設定を保存").click()
    expect(page.get_by_role("status").filter(has_text="通知の設定を保存しました。")).to_be_visible()
    page.goto(live_server.url + "/")
    page.wait_for_function("() => Boolean(window.workspace && window.workspace.socket.connected)")
    page.evaluate(
        "() => { window.Notification.permission = 'granted';"
        " Object.defineProperty(document, 'hidden', {configurable: true, get: () => true}); }"
    )

    other = context.browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo").new_page()
    sign_in_page(other, live_server.url, "suzuki")
    assert other.evaluate(MENTION, "@yamada 回覧をお願いします") == 201
    page.wait_for_function("() => window.__shown.length > 0")
    shown = page.evaluate("window.__shown")
    assert shown[0]["title"] == "職員ポータルの通知"
    assert "鈴木 花子さんがあなたをメンションしました" in shown[0]["body"]
    other.context.close()
    context.close()


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_after_a_reset_the_person_must_choose_a_new_password_first(
    village: dict[str, Any], live_server: Any, page: Any, width: int, height: int
) -> None:
    """After an administrator's reset: sent to the form at sign-in, held there, then free."""
    user = directory.get_user("yamada")
    user.must_change_password = True
    db.session().commit()
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "yamada")
    expect(page).to_have_url(live_server.url + "/settings/password")
    expect(page.get_by_role("heading", name="パスワードの変更", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="新しいパスワードを決めてください")).to_contain_text(
        "変更が終わるまで、ほかの画面は使えません"
    )
    assert axe_violations(page) == []
    _shot(page, f"settings-forced-{width}.png")
    page.goto(live_server.url + "/chat/")
    expect(page).to_have_url(live_server.url + "/settings/password")

    form = page.get_by_role("region", name="新しいパスワードを決めてください")
    form.get_by_label("現在のパスワード").fill(PASSWORD)
    form.get_by_label("新しいパスワード", exact=True).fill(NEW)
    form.get_by_label("新しいパスワード（確認）").fill(NEW + "-")
    form.get_by_role("button", name="新しいパスワードにする").click()
    form = page.get_by_role("region", name="新しいパスワードを決めてください")
    expect(form.get_by_role("alert")).to_have_text("確認のために入力したパスワードが一致しません。")
    assert axe_violations(page) == []
    form.get_by_label("現在のパスワード").fill(PASSWORD)
    form.get_by_label("新しいパスワード", exact=True).fill(NEW)
    form.get_by_label("新しいパスワード（確認）").fill(NEW)
    form.get_by_role("button", name="新しいパスワードにする").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("status").filter(has_text="パスワードを変更しました。")).to_be_visible()
    page.goto(live_server.url + "/chat/")
    expect(page).to_have_url(live_server.url + "/chat/")
    db.end_read()
    db.session().expire_all()  # the test changed this row itself, with no read open since
    assert directory.get_user("yamada").must_change_password is False
