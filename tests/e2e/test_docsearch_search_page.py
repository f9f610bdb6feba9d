"""検索 in the browser at desktop and phone sizes: the 絞り込み panel with counts (folded on a phone),
one hit per decided 決裁 with its record and attachment, and each hit's 種別・日付（和暦）・課・文書番号.

Full-page screenshots: screenshots/search-results-*.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.approvals import test_service_support as support
from tests.conftest import api_token, axe_violations, sign_in_page
from tests.docsearch import conftest as docsearch_fixtures
from tests.docsearch import test_search_grouping as grouping_fixtures
from tests.docsearch.conftest import upload
from workspace import ROOT, calendar

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys
people = docsearch_fixtures.people
tok = grouping_fixtures.tok
decided = grouping_fixtures.decided
SHOTS = Path(ROOT) / "screenshots"


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_search_results_page(
    client: Any,
    tok: dict[str, str],
    decided: dict[str, Any],
    live_server: Any,
    page: Any,
    width: int,
    height: int,
) -> None:
    """Does 公用車 show one 決裁 hit with its links and metadata, and the facets as a side panel?"""
    response = upload(
        client,
        api_token(client, "suzuki"),
        "公用車の点検記録です。".encode(),
        "tenken.txt",
        title="公用車の点検記録",
        fiscal_year=2025,
        document_number="榛総第88号",
    )
    assert response.status_code == 201, response.get_json()
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "suzuki")
    page.goto(live_server.url + "/search")
    page.get_by_label("検索", exact=True).fill("公用車")
    page.get_by_role("button", name="検索する").click()
    page.wait_for_selector("#results li")
    assert page.inner_text("#result-count") == "2件見つかりました。"

    hits = page.locator("#results > li")
    assert hits.count() == 2
    decision = hits.filter(has_text="公用車の購入について")
    meta = decision.locator(".hit-meta").inner_text()
    assert "決裁（決裁済み）" in meta and "総務課" in meta and decided["document_number"] in meta
    assert calendar.wareki(calendar.today()) in meta
    links = decision.get_by_role("list", name="公用車の購入について の関連文書")
    assert links.get_by_role("link", name="起案用紙（決裁済み・PDF）").count() == 1
    assert links.get_by_role("link", name="添付：見積書.csv").count() == 1
    registered = hits.filter(has_text="公用車の点検記録").locator(".hit-meta").inner_text()
    assert "文書" in registered and "榛総第88号" in registered

    panel = page.locator("details#facets")
    summary = panel.locator("summary")
    if width >= 900:
        assert panel.get_attribute("open") is not None
        box, results = panel.bounding_box(), page.locator("#results").bounding_box()
        assert box["x"] + box["width"] <= results["x"]  # beside the results, not above them
    else:
        assert panel.get_attribute("open") is None
        assert page.get_by_role("link", name="令和7年度（2025年度） 1件").is_hidden()
        summary.click()
    assert page.get_by_role("link", name="令和7年度（2025年度） 1件").is_visible()
    assert page.get_by_role("link", name="決裁 1件").is_visible()
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"search-results-{width}.png"), full_page=True)

    page.get_by_role("link", name="令和7年度（2025年度） 1件").click()
    page.wait_for_url("**fiscal_year=2025**")
    assert page.inner_text("#result-count") == "1件見つかりました。"
    assert page.get_by_role("link", name="年度の絞り込みを解除").count() == 1
