"""今日の仕事 in the browser, as a 係長 and a newcomer see it, at desktop and phone sizes.

Full-page screenshots go to screenshots/home-*.png (README: 画面の確認) so a reviewer can look at them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from approvals import service
from tests.approvals import test_service_support as support
from tests.conftest import axe_violations, sign_in_page
from workspace import ROOT, db

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys
SHOTS = Path(ROOT) / "screenshots"


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_home_shows_the_days_work(
    org: dict[str, Any], live_server: Any, page: Any, width: int, height: int
) -> None:
    """Does the 係長 see 決裁待ち with 種別・起案者 and open it by its link; is the page accessible?"""
    row = service.create(
        org["yamada"], {"route": "general", "title": "公民館の備品購入について", "submit": True}
    )
    db.session().commit()
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "suzuki")
    page.goto(live_server.url + "/")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.endswith("、鈴木 花子さん") and not heading.startswith("、")
    region = page.get_by_role("region", name="今日の仕事")
    assert "決裁待ち 1件" in region.inner_text()
    assert "一般文書・山田 太郎・本日" in region.inner_text()
    assert axe_violations(page) == []
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"home-kakaricho-{width}.png"), full_page=True)
    region.get_by_role("link", name="公民館の備品購入について").click()
    page.wait_for_url(f"**/approvals/{row.id}")

    page.context.clear_cookies()
    sign_in_page(page, live_server.url, "tanaka")
    page.goto(live_server.url + "/")
    assert "今日の仕事はありません" in page.get_by_role("region", name="今日の仕事").inner_text()
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / f"home-empty-{width}.png"), full_page=True)
