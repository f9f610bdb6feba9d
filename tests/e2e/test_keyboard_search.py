"""Searching without a mouse: from the home page to an opened document by Tab, typing and Enter only."""

from __future__ import annotations

import io
from typing import Any

from playwright.sync_api import expect

from docsearch import registry
from tests.conftest import sign_in_page
from workspace import calendar, db


def _tab_to(page: Any, accessible: str, tag: str | None = None, limit: int = 60) -> None:
    """Press Tab until the focused element (of `tag`, if given) is named `accessible`, as a person would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        name, focused_tag = page.evaluate(
            "() => { const e = document.activeElement;"
            " return [(e.getAttribute('aria-label') || (e.labels && e.labels[0] && e.labels[0].innerText)"
            " || e.innerText || '').trim(), e.tagName]; }"
        )
        if (name == accessible or name.startswith(accessible)) and tag in (None, focused_tag):
            return
    raise AssertionError(f"Tab never reached {accessible!r}")


def test_search_and_open_a_document_by_keyboard(village: dict[str, Any], live_server: Any, page: Any) -> None:
    """Can a person reach 検索, search 公民館 and open the hit with the keyboard alone?"""
    registry.register(
        village["suzuki"],
        {
            "title": "公民館の利用規程の改正について",
            "department_code": "01",
            "fiscal_year": str(calendar.fiscal_year(calendar.today())),
            "visibility": "public",
            "retention_years": "10",
        },
        io.BytesIO("公民館の利用時間を午後九時までとする。".encode()),
        "kiteikaisei.txt",
    )
    db.session().commit()
    sign_in_page(page, live_server.url, "yamada")
    page.goto(live_server.url + "/")
    _tab_to(page, "検索")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search**")
    _tab_to(page, "検索", tag="INPUT")  # the search box, labelled 検索
    page.keyboard.type("公民館")
    page.keyboard.press("Enter")
    results = page.locator("#results")
    expect(results).to_contain_text("公民館の利用規程の改正について", timeout=15000)
    _tab_to(page, "公民館の利用規程の改正について")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("公民館の利用規程の改正について")
