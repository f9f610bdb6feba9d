"""Browser journey: records staff tick expired documents on the 満了 list and draft the 廃棄 決裁."""

from __future__ import annotations

import io
from typing import Any

from approvals import route_store
from docsearch import registry
from tests.conftest import PASSWORD, axe_violations, sign_in_page
from workspace import db, directory


def test_records_clerk_drafts_the_disposal_decision(app: Any, live_server: Any, page: Any) -> None:
    """Can records staff choose expired documents and send them to 決裁 by keyboard, with no axe violations"""
    clerk = directory.add_local_user(
        "kiroku", "記録 文子", PASSWORD, department_code="01", section_code="0101", roles=("records",)
    )
    route_store.install_defaults()
    for title in ("平成27年度 旧庁舎配置図", "平成27年度 旧防災計画"):
        fields = {
            "title": title,
            "department_code": "01",
            "fiscal_year": "2015",
            "retention_years": "1",
            "visibility": "internal",
        }
        registry.register(clerk, fields, io.BytesIO(title.encode()), "old.txt")
    db.session().commit()

    base = live_server.url
    sign_in_page(page, base, "kiroku")
    page.goto(base + "/documents/retention")
    assert axe_violations(page) == []

    page.get_by_label("平成27年度 旧庁舎配置図 を決裁で廃棄").focus()
    page.keyboard.press("Space")
    page.get_by_label("平成27年度 旧防災計画 を決裁で廃棄").check()
    page.get_by_role("button", name="廃棄の決裁を起案").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("text=廃棄の決裁を起案しました（2件）")
    assert "決裁中" in page.inner_text("main")
    assert axe_violations(page) == []

    page.locator("table a[href^='/approvals/']").first.click()
    page.wait_for_url(lambda url: "/approvals/" in url)
    assert "文書の廃棄について（2件）" in page.inner_text("main")
