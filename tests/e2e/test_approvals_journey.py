"""The 電子決裁 journey in a real browser against the real server.

A 主事 drafts through the form, the 係長 approves on a phone-sized screen, the 課長 decides, and the
drafter downloads the signed PDF, which verifies. Every page visited has zero axe-core violations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from approvals import route_store, signing
from tests.approvals.test_service_support import GENERAL
from tests.conftest import axe_violations, sign_in_page
from workspace import db

PHONE = {"width": 390, "height": 844}


def _no_violations(page: Any) -> None:
    violations = axe_violations(page)
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]


def test_draft_approve_on_phone_decide_and_download(
    live_server: Any, village: dict[str, Any], browser: Any, app: Any, tmp_path: Path
) -> None:
    """Can a request go from the draft form to a signed PDF through the browser only?"""
    route_store.save(GENERAL, village["admin"])
    db.session().commit()

    drafter = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", accept_downloads=True)
    page = drafter.new_page()
    sign_in_page(page, live_server.url, "yamada")
    page.goto(f"{live_server.url}/approvals/new")
    _no_violations(page)
    page.fill("#title", "防災倉庫の備品購入について")
    page.fill("#body", "防災倉庫の毛布を購入したい。")
    page.fill("#amount", "120000")
    page.click("button[name=submit][value='1']")
    page.wait_for_selector("#request-status")
    assert page.inner_text("#request-status") == "決裁中"
    request_url = page.url
    assert page.locator(".route-step[aria-current=step]").inner_text().count("鈴木") == 1
    assert page.locator("button[name=action][value=approve]").count() == 0  # the drafter cannot approve
    _no_violations(page)

    chief = browser.new_context(
        locale="ja-JP", timezone_id="Asia/Tokyo", viewport=PHONE, is_mobile=True, has_touch=True
    )
    phone = chief.new_page()
    sign_in_page(phone, live_server.url, "suzuki")
    phone.goto(f"{live_server.url}/approvals/")
    _no_violations(phone)
    phone.click("text=防災倉庫の備品購入について")
    labels = phone.locator("button[name=action]").all_inner_texts()
    assert labels == ["承認", "差戻し", "却下"]
    _no_violations(phone)
    phone.fill("#comment", "確認しました")
    phone.click("button[name=action][value=approve]")
    phone.wait_for_selector(".flash-info")
    assert "承認しました" in phone.inner_text(".flash-info")
    assert phone.locator("button[name=action]").all_inner_texts() == ["引戻し"]
    assert phone.locator(".route-step").first.locator("svg.seal").count() == 1  # the 係長's 日付印
    chief.close()

    head = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    desk = head.new_page()
    sign_in_page(desk, live_server.url, "sato")
    desk.goto(request_url)
    assert desk.get_by_role("button", name="専決").count() == 1  # the 課長 decides by 課長専決, not 承認
    desk.get_by_role("button", name="専決").click()
    desk.wait_for_selector(".flash-info")
    assert desk.inner_text("#request-status") == "決裁済み"
    assert desk.inner_text("#document-number") == "榛総第1号"
    assert desk.locator("svg.seal").count() == 2
    _no_violations(desk)
    head.close()

    page.goto(request_url)
    with page.expect_download() as download_info:
        page.click("#pdf-link")
    target = tmp_path / "record.pdf"
    download_info.value.save_as(target)
    result = signing.verify_pdf(target.read_bytes(), Path(app.config["DATA_DIR"]) / "keys")
    assert result.valid and result.document_number == "榛総第1号"
    drafter.close()
