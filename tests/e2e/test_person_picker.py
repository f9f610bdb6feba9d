"""The person picker on 不在設定: a 代決者 found by 読み, chosen by keyboard, at desktop and phone sizes.

Screenshots: screenshots/absence-picker-*.png (the open candidate list) and absence-registered-*.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import axe_violations, sign_in_page
from workspace import ROOT, calendar, db, directory

SHOTS = Path(ROOT) / "screenshots"


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_deputy_is_chosen_by_reading_with_the_keyboard(
    village: dict[str, Any], live_server: Any, page: Any, width: int, height: int
) -> None:
    """Does typing たなか offer 田中 誠 with 課 and 役職, Enter choose him, and the absence register?"""
    directory.update_local_user("tanaka", actor="test", display_name_kana="たなか まこと")
    directory.update_local_user("yamada", actor="test", display_name_kana="やまだ たろう")
    db.session().commit()
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "sato")
    page.goto(live_server.url + "/approvals/absence")

    box = page.get_by_role("combobox", name="代決者")
    today = calendar.today().isoformat()
    page.fill("#from", today)
    page.fill("#until", today)
    page.get_by_role("button", name="登録").click()  # nobody chosen yet: the form says so, nothing is sent
    expect(page.get_by_role("alert").filter(has_text="代決者を候補から選んでください。")).to_be_visible()
    expect(box).to_be_focused()

    box.press_sequentially("たなか")
    listbox = page.get_by_role("listbox", name="代決者")
    option = listbox.get_by_role("option", name="田中 誠 企画財政課・主事")
    expect(option).to_be_visible()
    expect(option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-expanded", "true")
    assert "tanaka" not in listbox.inner_text()  # 氏名・課・役職, never the login ID
    assert axe_violations(page) == []
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"absence-picker-{width}.png"), full_page=True)

    box.press("Escape")
    expect(listbox).to_be_hidden()
    box.press("ArrowDown")  # opens the list again
    expect(option).to_be_visible()
    box.press("Enter")
    expect(box).to_have_value("田中 誠")
    expect(page.get_by_text("田中 誠（企画財政課・主事） を選びました。")).to_be_visible()
    page.get_by_role("button", name="登録").click()
    expect(page.get_by_role("status").filter(has_text="不在設定を登録しました。")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="田中 誠")
    expect(row).to_contain_text("佐藤 一郎")
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / f"absence-registered-{width}.png"), full_page=True)


def test_oneself_is_never_offered_as_deputy(village: dict[str, Any], live_server: Any, page: Any) -> None:
    """Is the person registering left out of the candidates (佐藤 finds nobody for 佐藤 一郎)?"""
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in_page(page, live_server.url, "sato")
    page.goto(live_server.url + "/approvals/absence")
    page.get_by_role("combobox", name="代決者").press_sequentially("佐藤")
    expect(page.get_by_text("該当する職員が見つかりません。")).to_be_visible()
    expect(page.get_by_role("listbox", name="代決者")).to_be_hidden()
