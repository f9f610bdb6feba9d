"""Browser journey: records staff registers a PDF, searches 予算 with a 年度 filter, opens the PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import PASSWORD, axe_violations, sign_in_page
from tests.docsearch.samples import pdf_bytes
from workspace import directory


def test_records_clerk_registers_searches_and_opens_pdf(
    app: Any, live_server: Any, page: Any, tmp_path: Path
) -> None:
    """Can records staff register a PDF, find it by 予算 in its 年度 and open it; is it hidden from others"""
    directory.add_local_user("kiroku", "記録 文子", PASSWORD, department_code="02", roles=("records",))
    pdf = tmp_path / "yosan.pdf"
    pdf.write_bytes(pdf_bytes("令和8年度 一般会計予算書", "歳入歳出予算の総額"))
    base = live_server.url
    sign_in_page(page, base, "kiroku")

    page.goto(base + "/documents/new")
    page.fill("#title", "令和8年度 一般会計予算書")
    page.set_input_files("#file", str(pdf))
    page.select_option("#department_code", "01")
    page.select_option("#fiscal_year", "2026")
    page.select_option("#visibility", "secret")
    page.click("form.card button[type=submit]")
    page.wait_for_selector("#pdf-preview")
    assert axe_violations(page) == []

    page.goto(base + "/search")
    page.get_by_label("検索", exact=True).fill("予算")
    page.select_option("#s-year", "2026")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("#results li")
    assert page.inner_text("#result-count").startswith("1件")
    assert page.inner_html("#results mark") == "予算"
    assert axe_violations(page) == []

    page.click("#results li a")
    page.wait_for_selector("#download-link")
    response = page.request.get(base + page.get_attribute("#pdf-preview", "src"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")

    # Same words, another year: nothing.  Another member of staff: nothing (秘).
    page.goto(base + "/search?q=予算&fiscal_year=2025")
    assert page.inner_text("#result-count").startswith("0件")
    page.context.clear_cookies()
    sign_in_page(page, base, "tanaka")
    page.goto(base + "/search?q=予算")
    assert page.inner_text("#result-count").startswith("0件")
