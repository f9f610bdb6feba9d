"""Browser journeys of 管理 › 文書分類: records staff add a 小分類, meet a refused code beside its field,
change a 保存年限, import a CSV through its preview; an administrator retires an entry in use; a 主事
sees no 管理 link and gets 403 by URL.  Desktop (1366×900) and phone (390×844), zero axe violations."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from docsearch import classifications, registry
from tests.conftest import PASSWORD, axe_violations, sign_in_page
from tests.docsearch.test_admin_classifications import TABLE
from workspace import db, directory

SHOTS = Path("/tmp/shots-classifications")
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


@pytest.fixture
def kiroku(app: Any, village: dict[str, Any]) -> Any:
    clerk = directory.add_local_user(
        "kiroku", "記録 文子", PASSWORD, department_code="01", section_code="0101", roles=("records",)
    )
    db.session().commit()
    classifications.apply(clerk, TABLE.encode())
    fields = {
        "title": "例規集",
        "department_code": "01",
        "fiscal_year": "2025",
        "visibility": "internal",
        "classification": "010101",
    }
    registry.register(clerk, fields, io.BytesIO(b"reiki"), "reiki.txt")
    db.session().commit()
    return clerk


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways ({width}px)"


@pytest.mark.parametrize("size", SIZES)
def test_records_staff_edit_the_table_and_import_a_csv(
    live_server: Any, page: Any, kiroku: Any, size: str, tmp_path: Path
) -> None:
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    base = live_server.url
    sign_in_page(page, base, "kiroku")
    page.get_by_role("link", name="管理").click()
    page.get_by_role("link", name="文書分類").click()
    page.wait_for_url(base + "/admin/classifications")
    expect(page.get_by_role("heading", name="文書分類", level=1)).to_be_visible()
    main = page.locator("main")
    assert "例規・条例" in main.inner_text() and "保存年限 永年 ・ 文書 1件" in main.inner_text()
    assert axe_violations(page) == []
    _fits(page)
    _shot(page, f"index-{size}")

    # Add a 小分類 under 文書・法規; a code already in use is refused beside its field.
    page.get_by_role("link", name="＋「文書・法規」に小分類を追加").click()
    page.get_by_label("コード").fill("010102")
    page.get_by_label("名前").fill("公印")
    page.get_by_label("標準の保存年限").select_option(label="5年")
    page.get_by_role("button", name="追加する").click()
    error = page.locator("#code-error")
    assert error.inner_text() == "コード「010102」はすでに使われています。"
    assert page.get_by_label("コード").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("名前").input_value() == "公印"
    assert axe_violations(page) == []
    _fits(page)
    _shot(page, f"add-refused-{size}")
    page.get_by_label("コード").fill("010103")
    page.get_by_role("button", name="追加する").click()
    expect(page.get_by_text("「総務 › 文書・法規 › 公印」を追加しました。")).to_be_visible()
    assert page.locator("#c-010103").inner_text().startswith("公印")

    # Change a 保存年限.
    page.get_by_role("link", name="文書管理", exact=True).click()
    expect(page.get_by_role("heading", name="小分類「文書管理」", level=1)).to_be_visible()
    page.get_by_label("標準の保存年限").select_option(label="30年")
    page.get_by_role("button", name="保存する").click()
    expect(page.get_by_text("保存しました。")).to_be_visible()
    assert "保存年限 30年" in page.locator("#c-010102").inner_text()

    # Import: a dry run lists the change first, then 適用.
    csv = tmp_path / "bunrui.csv"
    exported = classifications.export_csv("shift_jis").decode("cp932")
    csv.write_bytes(exported.replace("職員研修,3", "職員研修,5").encode("cp932"))
    page.get_by_label("CSVファイル（UTF-8 または Shift_JIS）").set_input_files(str(csv))
    page.get_by_role("button", name="内容を確認する").click()
    expect(page.get_by_role("heading", name="取込みの確認", level=1)).to_be_visible()
    changed = page.get_by_role("region", name="変更される分類（1件）")
    assert "総務 › 人事 › 職員研修" in changed.inner_text() and "保存年限：3年 → 5年" in changed.inner_text()
    assert axe_violations(page) == []
    _fits(page)
    _shot(page, f"preview-{size}")
    page.get_by_role("button", name="この内容で適用する").click()
    expect(page.get_by_text("取り込みました（追加 0件・変更 1件・削除または廃止 0件）。")).to_be_visible()
    assert "保存年限 5年" in page.locator("#c-010201").inner_text()

    # A bad file: the message names the line, beside the file field.
    csv.write_text(TABLE.replace("職員研修,3", "職員研修,4"), encoding="utf-8")
    page.get_by_label("CSVファイル（UTF-8 または Shift_JIS）").set_input_files(str(csv))
    page.get_by_role("button", name="内容を確認する").click()
    assert page.locator("#cls-file-error").inner_text().startswith("7行目: 保存年限「4」は使えません")
    assert axe_violations(page) == []


@pytest.mark.parametrize("size", SIZES)
def test_an_administrator_retires_an_entry_in_use(
    live_server: Any, page: Any, kiroku: Any, size: str
) -> None:
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    base = live_server.url
    sign_in_page(page, base, "admin")
    page.goto(base + "/admin/classifications/010101")
    assert "1件の文書が登録されているため、削除せず廃止します" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    _fits(page)
    _shot(page, f"edit-{size}")
    page.get_by_role("button", name="この分類を廃止する").click()
    expect(page.get_by_text("「総務 › 文書・法規 › 例規・条例」を廃止しました。")).to_be_visible()
    assert "廃止" in page.locator("#c-010101").inner_text()
    assert axe_violations(page) == []
    page.get_by_role("link", name="例規・条例").click()
    page.get_by_role("button", name="使用中に戻す").click()
    expect(page.get_by_text("「総務 › 文書・法規 › 例規・条例」を使用中に戻しました。")).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
def test_a_shuji_has_no_link_and_gets_403(live_server: Any, page: Any, kiroku: Any, size: str) -> None:
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    base = live_server.url
    sign_in_page(page, base, "yamada")
    assert page.get_by_role("link", name="管理").count() == 0
    response = page.goto(base + "/admin/classifications")
    assert response is not None and response.status == 403
    assert "例規・条例" not in page.locator("main").inner_text()
    assert axe_violations(page) == []
