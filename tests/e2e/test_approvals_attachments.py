"""Attachments and the verify form in a real browser against the real server.

A 主事 drafts with two files, sees them listed with SHA-256 and frozen after 起案; a file whose name
lies is refused in Japanese; the signed record verifies as 有効 in the browser and a copy with one
changed byte as 無効. Every page visited has zero axe-core violations.
"""

from __future__ import annotations

import hashlib
from typing import Any

from approvals import route_store, service
from approvals.models import ApprovalRequest, DecidedRecord
from tests.approvals.test_service_support import GENERAL
from tests.conftest import axe_violations, sign_in_page
from workspace import db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
CSV = "品名,金額\n毛布,120000\n".encode("cp932")


def _no_violations(page: Any) -> None:
    violations = axe_violations(page)
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]


def test_attach_in_the_draft_form_then_verify_the_signed_record(
    live_server: Any, village: dict[str, Any], browser: Any, app: Any
) -> None:
    """Can a drafter attach files in the browser, and can anyone verify the signed record there?"""
    route_store.save(GENERAL, village["admin"])
    db.session().commit()
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    sign_in_page(page, live_server.url, "yamada")

    # A draft first: a lying file is refused with a Japanese message, a good one is listed.
    page.goto(f"{live_server.url}/approvals/new")
    _no_violations(page)
    page.fill("#title", "防災倉庫の備品購入について")
    # The route preview follows the amount: above 500,000 yen the 副村長 decides, and this village has none.
    assert "佐藤 一郎" in page.inner_text("#route-preview")
    page.fill("#amount", "1000000")
    page.wait_for_selector("#route-preview .flash-error")
    page.fill("#amount", "120000")
    page.wait_for_selector("#route-preview .route-diagram")
    assert "佐藤 一郎" in page.inner_text("#route-preview")
    page.set_input_files(
        "#attachments",
        files=[
            {"name": "見積書.pdf", "mimeType": "application/pdf", "buffer": PDF},
            {"name": "明細.csv", "mimeType": "text/csv", "buffer": CSV},
        ],
    )
    page.click("button[name=submit][value='0']")
    page.wait_for_selector(".attachment-list")
    rows = page.locator(".attachment-list tbody tr").all_inner_texts()
    assert len(rows) == 2
    # The SHA-256 is folded away under 内容の指紋 (a long hash would push a phone sideways); opened, it shows.
    first = page.locator(".attachment-list tbody tr").first
    first.locator("summary").click()
    assert first.locator("code.digest").inner_text() == hashlib.sha256(PDF).hexdigest()
    _no_violations(page)
    page.set_input_files(
        "#attachment-file", files=[{"name": "写真.pdf", "mimeType": "application/pdf", "buffer": PNG}]
    )
    page.click(".attach-form button[type=submit]")
    page.wait_for_selector(".flash-error")
    assert "拡張子（.pdf）と一致しません" in page.inner_text(".flash-error")
    assert page.locator(".attachment-list tbody tr").count() == 2
    _no_violations(page)

    # 起案: the list is frozen, the upload form is gone.
    page.click("button[name=action][value=submit]")
    page.wait_for_selector(".flash-info")
    assert "（起案時に確定）" in page.inner_text("#attachments-heading")
    assert page.locator("#attachment-file").count() == 0

    request_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    service.act(village["suzuki"], request_id, "approve")
    row = service.act(village["sato"], request_id, "approve")
    assert row.status == "approved"
    signed = db.session().get(DecidedRecord, request_id).pdf
    number = db.session().get(ApprovalRequest, request_id).document_number
    db.session().commit()  # end the read: the server writes to the same database

    page.goto(f"{live_server.url}/approvals/verify")
    _no_violations(page)
    page.set_input_files(
        "#pdf", files=[{"name": "起案用紙.pdf", "mimeType": "application/pdf", "buffer": signed}]
    )
    page.click("button:has-text('検証')")
    page.wait_for_selector("#verdict")
    assert page.inner_text("#verdict") == "有効"
    assert page.inner_text("#verify-number") == number
    assert page.inner_text("#verify-title") == "防災倉庫の備品購入について"
    assert page.locator("#verify-link").count() == 1
    _no_violations(page)

    changed = bytearray(signed)
    changed[len(changed) // 2] ^= 0x01
    page.set_input_files(
        "#pdf", files=[{"name": "改変.pdf", "mimeType": "application/pdf", "buffer": bytes(changed)}]
    )
    page.click("button:has-text('検証')")
    page.wait_for_selector("#verdict")
    assert page.inner_text("#verdict") == "無効"
    assert page.inner_text("#verify-reason")
    _no_violations(page)
    context.close()
