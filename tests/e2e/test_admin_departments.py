"""管理 › 課・係 in the browser, as an administrator at desktop and phone sizes: the tree with its
略称, a 係 added, a refusal next to its field, 廃止 refused with the reason, a 係 renamed and moved,
a 人事異動 previewed (channels joined and left) and applied; and a 主事 refused (no link, 403).

Screenshots: /tmp/shots-departments/*.png (looked at by hand); with WORKSPACE_DOC_SHOTS=1 also the
guide's docs/img/admin-departments-*.png.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from approvals import service
from tests.approvals import test_service_support as support
from tests.conftest import axe_violations, sign_in_page
from workspace import ROOT, db, directory

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys

SHOTS = Path("/tmp/shots-departments")
DOCS = Path(ROOT) / "docs" / "img"


def _shot(page: Any, name: str, width: int, *, docs: Any = None) -> None:
    """Save the whole page for review; with WORKSPACE_DOC_SHOTS=1, the part ``docs`` too, for the guide."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    if docs is not None and width == 1366 and os.environ.get("WORKSPACE_DOC_SHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        docs.screenshot(path=str(DOCS / f"admin-departments-{name}.png"))


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_an_administrator_runs_the_departments(
    org: dict[str, Any], live_server: Any, page: Any, width: int, height: int
) -> None:
    service.create(org["yamada"], {"route": "general", "title": "備品購入の下書き"})
    directory.add_local_user("zaisei", "財田 係長", "x-PASSWORD-1", department_code="02", title="係長")
    db.session().commit()
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "admin")
    page.get_by_role("link", name="管理", exact=True).click()
    page.get_by_role("link", name="課・係", exact=True).click()
    expect(page.get_by_role("heading", name="課・係", level=1)).to_be_visible()
    sections = page.get_by_role("list", name="総務課の係")
    expect(sections).to_contain_text("総務係")
    expect(page.get_by_text("コード 01・略称「総」・職員 6人")).to_be_visible()

    # 追加: a 係 under 企画財政課
    page.get_by_label("名称", exact=True).fill("財政係")
    page.get_by_label("コード", exact=True).fill("0201")
    page.get_by_label("所属する課", exact=True).select_option(label="企画財政課")
    page.get_by_role("button", name="追加", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="財政係を追加しました。")).to_be_visible()
    expect(page.get_by_role("list", name="企画財政課の係")).to_contain_text("財政係")
    assert axe_violations(page) == []
    _shot(page, "tree", width, docs=page.get_by_role("region", name="課・係の一覧"))

    # a refusal: the 略称 of another 課, said next to the 略称 field, nothing added
    page.get_by_label("名称", exact=True).fill("総合政策課")
    page.get_by_label("コード", exact=True).fill("03")
    page.get_by_role("button", name="追加", exact=True).click()
    prefix = page.get_by_label("文書番号の略称（任意）")
    expect(prefix).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert").filter(has_text="略称「総」は総務課が使っています")).to_be_visible()
    expect(page.get_by_label("名称", exact=True)).to_have_value("総合政策課")
    assert axe_violations(page) == []
    _shot(page, "refused", width)

    # 廃止 refused while people belong, with the reason
    page.get_by_role("link", name="総務係を変更").click()
    expect(page.get_by_role("heading", name="総務係", level=1)).to_be_visible()
    page.get_by_role("button", name="総務係を廃止").click()
    expect(page.get_by_role("alert")).to_have_text("総務係は廃止できません。在籍している職員が2人います。")
    assert axe_violations(page) == []
    _shot(page, "in-use", width)

    # rename the new 係 and move it to 総務課
    page.get_by_role("link", name="課・係の一覧へ戻る").click()
    page.get_by_role("link", name="財政係を変更").click()
    page.get_by_label("名称", exact=True).fill("財政管理係")
    page.get_by_label("所属する課", exact=True).select_option(label="総務課")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status").filter(has_text="財政管理係を保存しました。")).to_be_visible()
    expect(page.get_by_role("list", name="総務課の係")).to_contain_text("財政管理係")
    expect(page.get_by_role("list", name="企画財政課の係")).to_have_count(0)

    # 人事異動: 山田 to 企画財政課 — preview first, then 適用
    box = page.get_by_role("combobox", name="異動する職員")
    box.press_sequentially("山田")
    expect(page.get_by_role("listbox", name="異動する職員").get_by_role("option").first).to_be_visible()
    box.press("Enter")
    expect(box).to_have_value("山田 太郎")
    page.get_by_label("異動先の課・係").select_option(label="企画財政課")
    page.get_by_role("button", name="異動の影響を確認").click()
    expect(page.get_by_role("heading", name="人事異動の確認", level=1)).to_be_visible()
    expect(page.get_by_text("総務課 › 総務係")).to_be_visible()
    expect(page.get_by_role("heading", name="参加するチャンネル")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="#企画財政課")).to_be_visible()
    expect(page.get_by_role("heading", name="退出するチャンネル")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="#総務課")).to_be_visible()
    expect(page.get_by_role("heading", name="ルートが決まり直す下書きの決裁（1件）")).to_be_visible()
    route = page.get_by_role("listitem").filter(has_text="備品購入の下書き")
    expect(route).to_have_text("備品購入の下書き — 新しいルート：回議 財田 係長 → 決裁 企田 三郎")
    assert axe_violations(page) == []
    _shot(page, "transfer", width, docs=page.locator("main"))
    page.get_by_role("button", name="適用").click()
    expect(
        page.get_by_role("status").filter(has_text="山田 太郎さんを企画財政課へ異動しました。")
    ).to_be_visible()
    expect(page.get_by_text("コード 02・略称「企」・職員 4人")).to_be_visible()

    # the empty 係 can be 廃止 and shows so
    page.get_by_role("link", name="財政管理係を変更").click()
    page.get_by_role("button", name="財政管理係を廃止").click()
    expect(page.get_by_role("status").filter(has_text="財政管理係を廃止しました。")).to_be_visible()
    expect(
        page.get_by_role("list", name="総務課の係").get_by_role("listitem").filter(has_text="財政管理係")
    ).to_contain_text("廃止")
    assert axe_violations(page) == []


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_a_clerk_sees_no_link_and_is_refused(
    village: dict[str, Any], live_server: Any, page: Any, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "yamada")
    expect(page.get_by_role("link", name="管理", exact=True)).to_have_count(0)
    for path in (
        "/admin/departments",
        "/admin/departments/01",
        "/admin/departments/transfer?person=sato&unit=02",
    ):
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 403, path
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert axe_violations(page) == []
