"""通知 and 今日の仕事 live through the hub, in two browsers: one person acts, the other's page changes.

Full-page screenshots go to screenshots/notifications-*.png and home-live-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.approvals import test_service_support as support
from tests.conftest import axe_violations, sign_in_page
from workspace import ROOT

pytestmark = pytest.mark.browser
app_config = support.app_config
org = support.org
shared_keys = support.shared_keys
SHOTS = Path(ROOT) / "screenshots"
WAREKI_TIME = re.compile(r"^令和\d+年\d+月\d+日 \d\d:\d\d$")

ACT = """async ([title, body]) => {
  const ws = window.workspace;
  const made = await ws.api("POST", "/approvals", {route: "general", title: title, submit: true});
  const list = await ws.api("GET", "/channels");
  const soumu = list.data.channels.find((c) => c.name === "総務課");
  const sent = await ws.api("POST", "/channels/" + soumu.id + "/messages", {body: body});
  return [made.status, sent.status];
}"""
MENTION = """async (body) => {
  const list = await window.workspace.api("GET", "/channels");
  const soumu = list.data.channels.find((c) => c.name === "総務課");
  return (await window.workspace.api("POST", "/channels/" + soumu.id + "/messages", {body: body})).status;
}"""


def _person(browser: Any, url: str, username: str, width: int, height: int) -> Any:
    context = browser.new_context(
        locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": width, "height": height}
    )
    page = context.new_page()
    page.errors = []  # console errors and uncaught exceptions: a live page must have none
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("response", lambda r: page.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    sign_in_page(page, url, username)
    page.wait_for_function("() => Boolean(window.workspace && window.workspace.socket.connected)")
    return page


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_one_person_acts_and_the_others_home_and_badge_change_without_reload(
    org: dict[str, Any], live_server: Any, browser: Any, width: int, height: int
) -> None:
    """Does 鈴木's open home page gain the 決裁待ち, the mention and the 通知 count when 山田 acts?"""
    SHOTS.mkdir(exist_ok=True)
    suzuki = _person(browser, live_server.url, "suzuki", width, height)
    today = suzuki.get_by_role("region", name="今日の仕事")
    expect(today).to_contain_text("今日の仕事はありません")
    header = suzuki.get_by_role("banner")
    expect(header.get_by_role("link", name="通知", exact=True)).to_be_visible()
    suzuki.evaluate("window.__sameDocument = true")

    yamada = _person(browser, live_server.url, "yamada", width, height)
    statuses = yamada.evaluate(ACT, ["公民館の備品購入について", "@suzuki 見積書を確認してください"])
    assert statuses == [201, 201]

    expect(today).to_contain_text("決裁待ち 1件")
    expect(today).to_contain_text("一般文書・山田 太郎・本日")
    expect(today).to_contain_text("あなた宛てのメンション（未読）：1件")
    expect(today.get_by_role("link", name="総務課")).to_be_visible()
    expect(today.get_by_role("link", name="1件")).to_have_attribute("href", "/notifications")
    expect(suzuki.locator("#today-empty")).to_be_hidden()
    expect(header.get_by_role("link", name="通知 2件")).to_be_visible()
    assert suzuki.evaluate("window.__sameDocument") is True  # no reload happened
    assert suzuki.locator("#notice-count").inner_text() == "2"
    assert axe_violations(suzuki) == []
    assert suzuki.evaluate("document.documentElement.scrollWidth") <= width
    suzuki.screenshot(path=str(SHOTS / f"home-live-{width}.png"), full_page=True)

    # Opening the list reads it: both notices with 氏名 and 和暦 times, then the count is gone.
    header.get_by_role("link", name=re.compile(r"^通知")).click()
    suzuki.wait_for_url(f"{live_server.url}/notifications")
    items = suzuki.locator("#notice-list > li")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text(
        "山田 太郎さんがあなたをメンションしました：@suzuki 見積書を確認してください"
    )
    expect(items.nth(1)).to_contain_text(
        "山田 太郎さんの起案「公民館の備品購入について」があなたの決裁待ちになりました"
    )
    for i in range(2):
        assert WAREKI_TIME.match(items.nth(i).locator("time").inner_text())
        expect(items.nth(i)).to_contain_text("新着")
    expect(header.get_by_role("link", name="通知", exact=True)).to_be_visible()
    assert axe_violations(suzuki) == []
    assert suzuki.evaluate("document.documentElement.scrollWidth") <= width
    suzuki.screenshot(path=str(SHOTS / f"notifications-{width}.png"), full_page=True)

    # A notice that arrives while the list is open appears at its top and is read at once.
    suzuki.evaluate("window.__sameDocument = true")
    assert yamada.evaluate(MENTION, "@suzuki 会議は14時からです") == 201
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_contain_text("会議は14時からです")
    assert WAREKI_TIME.match(items.nth(0).locator("time").inner_text())
    expect(header.get_by_role("link", name="通知", exact=True)).to_be_visible()
    unread = suzuki.evaluate(
        "window.workspace.api('GET', '/notifications?unread=1').then(r => r.data.unread)"
    )
    assert unread == 0 and suzuki.evaluate("window.__sameDocument") is True
    suzuki.reload()
    expect(items).to_have_count(3)
    expect(suzuki.locator("#notice-list")).not_to_contain_text("新着")

    # The notice's link leads to where it is handled.
    items.nth(2).get_by_role("link").click()
    suzuki.wait_for_url(re.compile(r"/approvals/\d+$"))
    request_id = int(suzuki.url.rsplit("/", 1)[1])

    # The other way round: 鈴木 sends it back, and 山田's open home moves it from 回議中 to 差し戻された起案.
    yamada.goto(live_server.url + "/")
    yamada.wait_for_function("() => Boolean(window.workspace && window.workspace.socket.connected)")
    mine = yamada.get_by_role("region", name="今日の仕事")
    expect(mine.get_by_role("heading", name="回議中の起案")).to_be_visible()
    yamada.evaluate("window.__sameDocument = true")
    back = suzuki.evaluate(
        "id => window.workspace.api('POST', '/approvals/' + id + '/actions',"
        " {action: 'send_back', comment: '見積書を2社分添付してください'}).then(r => r.status)",
        request_id,
    )
    assert back == 200
    expect(mine).to_contain_text("差し戻された起案 1件")
    expect(mine).to_contain_text("理由：見積書を2社分添付してください")
    expect(mine.get_by_role("heading", name="回議中の起案")).to_have_count(0)
    # Another person's act reaches this page through the hub; allow a loaded machine its time.
    expect(yamada.get_by_role("banner").get_by_role("link", name="通知 1件")).to_be_visible(timeout=20000)
    assert yamada.evaluate("window.__sameDocument") is True
    assert suzuki.errors == [] and yamada.errors == []
    suzuki.context.close()
    yamada.context.close()


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_the_empty_list_says_what_will_appear_there(
    live_server: Any, browser: Any, width: int, height: int
) -> None:
    """Does a person with no notices see a calm Japanese empty state, accessibly?"""
    tanaka = _person(browser, live_server.url, "tanaka", width, height)
    tanaka.get_by_role("banner").get_by_role("link", name="通知", exact=True).click()
    tanaka.wait_for_url(f"{live_server.url}/notifications")
    expect(tanaka.get_by_role("heading", level=1)).to_have_text("通知")
    expect(tanaka.locator("#notices-empty")).to_contain_text("新しい通知はありません")
    assert axe_violations(tanaka) == []
    SHOTS.mkdir(exist_ok=True)
    tanaka.screenshot(path=str(SHOTS / f"notifications-empty-{width}.png"), full_page=True)
    tanaka.context.close()
