"""設定 in the browser: a local account sees its 氏名 and 所属 and saves its 読み; a wrong 読み says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import axe_violations, sign_in_page
from workspace import ROOT, db, directory

SHOTS = Path(ROOT) / "screenshots"


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_a_local_account_saves_its_reading(
    village: dict[str, Any], live_server: Any, page: Any, width: int, height: int
) -> None:
    """Can 山田 太郎 save やまだ たろう as his 読み, and is 山田 (kanji) refused in Japanese?"""
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "yamada")
    page.goto(live_server.url + "/settings")
    profile = page.get_by_role("region", name="あなたの登録内容")
    expect(profile).to_contain_text("山田 太郎")
    expect(profile).to_contain_text("総務課　総務係　主事")
    box = page.get_by_label("読み（ひらがなかカタカナ）")
    box.fill("山田")
    page.get_by_role("button", name="読みを保存").click()
    expect(page.get_by_role("alert")).to_contain_text("読みはひらがなかカタカナで入力してください")
    expect(page.get_by_label("読み（ひらがなかカタカナ）")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("読み（ひらがなかカタカナ）").fill("やまだ　たろう")
    page.get_by_role("button", name="読みを保存").click()
    expect(page.get_by_role("status").filter(has_text="読みを保存しました。")).to_be_visible()
    expect(page.get_by_label("読み（ひらがなかカタカナ）")).to_have_value("やまだ たろう")
    db.end_read()  # a fresh snapshot: the server committed the reading
    assert directory.get_user("yamada").display_name_kana == "やまだ たろう"
    assert axe_violations(page) == []
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"settings-kana-{width}.png"), full_page=True)
