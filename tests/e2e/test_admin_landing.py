"""The 管理 landing page as an administrator, records staff and a 主事 meet it in a browser.

An administrator finds 管理 in the header and, on it, one link per section with the section's name
(the names are public: other software and tests follow them); records staff see only what their role
opens; a 主事 sees no 管理 link and gets 403 on every /admin address, however it is typed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import url_for

from tests.conftest import PASSWORD, axe_violations, sign_in_page
from workspace import ROOT, directory
from workspace.admin import ORDER

SHOTS = Path(ROOT) / "screenshots" / "admin"
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


@pytest.fixture
def records_clerk(village: dict[str, Any]) -> Any:
    return directory.add_local_user(
        "takahashi", "高橋 文子", PASSWORD, department_code="01", title="主事", roles=("records",)
    )


@pytest.mark.parametrize("size", SIZES)
def test_an_administrator_finds_every_section(page: Any, live_server: Any, size: str) -> None:
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    sign_in_page(page, live_server.url, "admin")
    page.get_by_role("link", name="管理", exact=True).click()
    page.wait_for_url(live_server.url + "/admin")
    assert page.get_by_role("heading", level=1).inner_text() == "管理"
    for name in ORDER:
        link = page.get_by_role("link", name=name, exact=True)
        assert link.count() == 1, name
        assert link.is_visible(), name
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"landing-{size}.png"), full_page=True)
    assert axe_violations(page) == []
    for name in ORDER:  # every link leads to a page of that name
        page.goto(live_server.url + "/admin")
        page.get_by_role("link", name=name, exact=True).click()
        page.wait_for_load_state()
        assert name in page.get_by_role("heading", level=1).inner_text(), name
        assert page.get_by_role("link", name="管理").first.is_visible()


def test_records_staff_see_only_their_sections(page: Any, live_server: Any, records_clerk: Any) -> None:
    sign_in_page(page, live_server.url, "takahashi")
    page.get_by_role("link", name="管理", exact=True).click()
    page.wait_for_url(live_server.url + "/admin")
    assert page.get_by_role("link", name="文書分類", exact=True).count() == 1
    for name in set(ORDER) - {"文書分類"}:
        assert page.get_by_role("link", name=name, exact=True).count() == 0, name


def test_a_clerk_sees_no_admin_link_and_is_refused_every_admin_address(
    page: Any, live_server: Any, app: Any
) -> None:
    sign_in_page(page, live_server.url, "yamada")
    assert page.get_by_role("link", name="管理", exact=True).count() == 0
    with app.test_request_context():
        addresses = ["/admin"] + [url_for(s.endpoint) for s in app.extensions["admin_sections"].values()]
    assert len(addresses) == 1 + len(ORDER)
    for address in addresses:
        response = page.goto(live_server.url + address)
        assert response is not None and response.status == 403, address
        assert "許可されていません" in page.locator("main").inner_text(), address
