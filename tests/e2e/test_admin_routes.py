"""管理 › 決裁ルート in a real browser at 1366×900 and 390×844, as an administrator: the list with its
history, the route's diagram, the 試算 for a chosen drafter, the editor's live messages next to the
field and live diagram, saving a new version; and the refusal of a 主事 (no link, 403 by URL).

Screenshots go to /tmp/shots-routes/ (looked at by hand) and, small, to docs/img/ for the guide.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.approvals import test_service_support as support
from tests.conftest import axe_violations, sign_in_page

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys
SHOTS = Path(os.environ.get("ROUTES_SHOTS", "/tmp/shots-routes"))
SIZES = [(1366, 900), (390, 844)]
LIVE = 15_000  # ms: the live check waits 0.4 s after typing, then asks the server (slow on a busy machine)


def _open(browser: Any, live_server: Any, username: str, width: int, height: int) -> Any:
    context = browser.new_context(
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        viewport={"width": width, "height": height},
        is_mobile=width < 500,
        has_touch=width < 500,
    )
    page = context.new_page()
    sign_in_page(page, live_server.url, username)
    return page


def ready(page: Any) -> None:
    """Wait until the editor's script listens (the heading shows before the script at the page's end runs)."""
    expect(page.locator("#route-editor[data-ready]")).to_have_count(1)


def _look(page: Any, name: str, width: int) -> None:
    """Zero axe violations, nothing wider than the screen, and a full-page screenshot to look at."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    violations = axe_violations(page)
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_an_administrator_views_tries_and_edits_a_route(
    browser: Any, live_server: Any, org: dict[str, Any], width: int, height: int
) -> None:
    page = _open(browser, live_server, "admin", width, height)
    page.goto(live_server.url + "/admin")
    page.get_by_role("link", name="決裁ルート", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="決裁ルート")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="一般文書")
    expect(row.first).to_contain_text("第1版")
    expect(page.get_by_role("heading", name="一般文書の版の履歴")).to_be_visible()
    expect(page.get_by_role("table", name="一般文書の版の履歴（新しい順）")).to_contain_text("管理 太郎")
    expect(page.get_by_role("table", name="一般文書の版の履歴（新しい順）")).to_contain_text("令和")
    _look(page, "admin-routes-list", width)

    # The route drawn as the 起案 page draws it, and the 試算 for 山田 with 100万円.
    page.get_by_role("link", name="一般文書", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="決裁ルート：一般文書")).to_be_visible()
    diagram = page.locator(".route-template-diagram")
    expect(diagram).to_contain_text("起案者の係長")
    expect(diagram).to_contain_text("50万円以下・課長専決")
    box = page.get_by_role("combobox", name="起案者")
    box.press_sequentially("山田")
    page.get_by_role("listbox", name="起案者").get_by_role("option", name="山田 太郎 総務課・主事").click()
    page.get_by_label("金額（円・任意）").fill("1000000")
    page.get_by_role("button", name="試算する").click()
    expect(
        page.get_by_role("heading", name="山田 太郎さん（総務課・主事）が1,000,000円で起案した場合（第1版）")
    ).to_be_visible()
    table = page.get_by_role("table", name="回る順と承認者")
    expect(table.get_by_role("row").filter(has_text="鈴木 花子")).to_contain_text("係長")
    expect(table.get_by_role("row").filter(has_text="副島 次郎")).to_contain_text("副村長")
    _look(page, "admin-routes-trial", width)

    # The editor: a wrong 役職 and an amount that is not a number are told next to the field while typing.
    page.get_by_role("link", name="このルートを編集").click()
    expect(page.get_by_role("heading", level=1, name="決裁ルートの編集：一般文書")).to_be_visible()
    ready(page)
    title = page.locator("#steps-1-rules-1-title")
    title.fill("副社長")
    expect(page.locator("#steps-1-rules-1-title-error")).to_have_text(
        "役職「副社長」の職員が登録されていません。", timeout=LIVE
    )
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#editor-diagram-status")).to_contain_text("誤りが1件あります")
    page.get_by_role("button", name="保存（新しい版にする）").click()  # refused: 422, nothing saved
    summary = page.get_by_role("alert").filter(has_text="保存できませんでした。")
    expect(summary.get_by_role("link", name="役職「副社長」の職員が登録されていません。")).to_be_visible()
    expect(page.locator("#steps-1-rules-1-title")).to_have_attribute("aria-invalid", "true")
    _look(page, "admin-routes-refused-save", width)
    ready(page)
    title = page.locator("#steps-1-rules-1-title")
    title.fill("副村長")
    expect(page.locator("#steps-1-rules-1-title-error")).to_have_text("", timeout=LIVE)
    expect(summary).to_be_hidden()
    amount = page.locator("#steps-1-rules-0-max_amount")
    amount.fill("五十万")
    expect(page.locator("#steps-1-rules-0-max_amount-error")).to_have_text(
        "専決の上限額は0以上の整数（円、半角数字）で入力してください。", timeout=LIVE
    )
    amount.fill("300000")
    expect(page.locator("#editor-diagram")).to_contain_text("30万円以下・課長専決", timeout=LIVE)

    # Add a 供覧 step for 田中 before the 決裁; the form comes back with it, the diagram follows.
    page.get_by_role("button", name="ステップを追加").click()
    expect(page.get_by_role("group", name="2番目のステップ：回議")).to_be_visible()
    ready(page)
    page.get_by_label("種類", exact=True).nth(1).select_option("circulate")  # shows the parts of a 供覧
    step = page.get_by_role("group", name="2番目のステップ：供覧")
    expect(step).to_be_visible()
    step.get_by_label("指定の仕方（2-1）").select_option("user")
    expect(step.get_by_label("役職", exact=True)).to_be_hidden()  # only the boxes of the chosen way show
    step.get_by_label("職員", exact=True).select_option(label="田中 誠（企画財政課・主事）")
    expect(page.locator("#editor-diagram")).to_contain_text("田中 誠", timeout=LIVE)
    _look(page, "admin-routes-edit", width)
    page.get_by_role("button", name="保存（新しい版にする）").click()
    expect(page.get_by_role("status").filter(has_text="第2版として保存しました")).to_be_visible()
    history = page.get_by_role("table", name="一般文書の版の履歴（新しい順）")
    expect(history.get_by_role("row").nth(1)).to_contain_text("2番目に追加：供覧：田中 誠")
    expect(page.locator(".route-template-diagram")).to_contain_text("田中 誠")
    page.context.close()


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_shuji_sees_no_link_and_gets_403(
    browser: Any, live_server: Any, org: dict[str, Any], width: int, height: int
) -> None:
    page = _open(browser, live_server, "yamada", width, height)
    page.goto(live_server.url + "/")
    expect(page.get_by_role("link", name="管理")).to_have_count(0)
    expect(page.get_by_role("link", name="決裁ルート")).to_have_count(0)
    for path in ("/admin/routes", "/admin/routes/general", "/admin/routes/general/edit"):
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 403, path
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    _look(page, "admin-routes-refused", width)
    page.context.close()
