"""文書の登録 and 新規起案 in the browser: 年度 in 和暦, one 文書分類 picker that sets the 保存年限.

Full-page screenshots: screenshots/docsearch-register-*.png and approvals-new-classification-*.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from docsearch import default_classifications
from docsearch.models import Document
from tests.approvals import test_service_support as support
from tests.conftest import PASSWORD, axe_violations, sign_in_page
from workspace import ROOT, db, directory

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys
SHOTS = Path(ROOT) / "screenshots"
SIZES = [(1366, 900), (390, 844)]


@pytest.fixture
def table(app: Any) -> None:
    """The default 文書分類 table, as migration 0005 loads it (tests wipe tables between tests)."""
    default_classifications.seed_if_empty(db.session().connection())
    db.session().commit()


@pytest.mark.parametrize("width,height", SIZES)
def test_register_form_takes_wareki_year_and_classification_sets_retention(
    live_server: Any, page: Any, table: None, tmp_path: Path, width: int, height: int
) -> None:
    """Is 年度 chosen as 令和8年度 (2026 stored), and does choosing 研修 set 保存年限 to 3年?"""
    directory.add_local_user("kiroku", "記録 文子", PASSWORD, department_code="01", roles=("records",))
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "kiroku")
    page.goto(live_server.url + "/documents/new")
    year = page.get_by_label("年度", exact=True)
    assert year.evaluate("e => e.options[e.selectedIndex].text") == "令和8年度（2026年度）"
    assert "令和元年度（2019年度）" in year.inner_text()
    picker = page.get_by_label("文書分類")
    page.wait_for_selector("#classification[data-ready]", state="attached")
    assert picker.locator("optgroup[label='01 総務']").count() == 1
    option = picker.locator("option[value='010202']")
    assert option.inner_text() == "010202 総務 › 人事・職員 › 職員研修（3年）"
    picker.select_option("010202")
    retention = page.get_by_label("保存年限")
    assert retention.evaluate("e => e.options[e.selectedIndex].text") == "3年"
    picker.select_option("010101")
    assert retention.evaluate("e => e.options[e.selectedIndex].text") == "永年"
    picker.select_option("010202")
    year.select_option(label="令和7年度（2025年度）")
    page.get_by_label("件名（必須）").fill("職員研修の実施について")
    note = tmp_path / "kenshu.txt"
    note.write_text("新規採用職員研修を実施します。", encoding="utf-8")
    page.set_input_files("#file", str(note))
    assert axe_violations(page) == []
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"docsearch-register-{width}.png"), full_page=True)
    page.get_by_role("button", name="登録する").click()
    page.wait_for_url("**/documents/*")
    db.session().commit()
    doc = (
        db.session().execute(select(Document).where(Document.title == "職員研修の実施について")).scalar_one()
    )
    assert (doc.fiscal_year, doc.classification.code, doc.retention_years) == (2025, "010202", 3)


@pytest.mark.parametrize("width,height", SIZES)
def test_approval_form_uses_the_same_classification_picker(
    org: dict[str, Any], live_server: Any, page: Any, table: None, width: int, height: int
) -> None:
    """Does 新規起案 offer the same 分類 picker, and does a 永年 分類 set its 保存年限 to 永年?"""
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "yamada")
    page.goto(live_server.url + "/approvals/new")
    page.wait_for_selector("#classification[data-ready]", state="attached")
    picker = page.get_by_label("文書分類（任意）")
    assert (
        picker.locator("option[value='010202']").inner_text() == "010202 総務 › 人事・職員 › 職員研修（3年）"
    )
    picker.select_option("010101")
    retention = page.get_by_label("保存年限")
    assert retention.evaluate("e => e.options[e.selectedIndex].text") == "永年"
    picker.select_option("020201")
    assert retention.evaluate("e => e.options[e.selectedIndex].text") == "10年"
    assert axe_violations(page) == []
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"approvals-new-classification-{width}.png"), full_page=True)
