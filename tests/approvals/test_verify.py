"""Verifying a signed 起案用紙: the upload form in the browser, `workspace approvals verify`, `keys init`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from approvals import service
from approvals.models import DecidedRecord
from tests.approvals import test_service_support as support
from tests.conftest import csrf_from, login
from workspace import db

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys


@pytest.fixture
def signed(org: dict[str, Any]) -> tuple[int, bytes, str]:
    """An approved request's (id, signed record, 文書番号)."""
    row = service.create(
        org["yamada"], {"route": "general", "title": "検証する起案", "amount": 1000, "submit": True}
    )
    service.act(org["suzuki"], row.id, "approve")
    row = service.act(org["sato"], row.id, "approve")
    record = db.session().get(DecidedRecord, row.id)
    assert record is not None and record.signed
    return row.id, record.pdf, row.document_number


def flipped(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def _post(client: Any, data: bytes | None, token: str | None = None) -> Any:
    form: dict[str, Any] = {}
    if token is not None:
        form["csrf_token"] = token
    if data is not None:
        form["pdf"] = (io.BytesIO(data), "起案用紙.pdf")
    return client.post("/approvals/verify", data=form, content_type="multipart/form-data")


def _token(client: Any) -> str:
    page = client.get("/approvals/verify").get_data(as_text=True)
    assert '<label for="pdf">PDFファイル</label>' in page and ">検証</button>" in page
    return csrf_from(page)


def test_verify_form_reports_valid_with_number_title_and_link(
    client: Any, signed: tuple[int, bytes, str]
) -> None:
    """Does the drafter's upload of the signed record show 有効, its 文書番号, 件名 and a link?"""
    request_id, pdf, number = signed
    login(client, "yamada")
    response = _post(client, pdf, _token(client))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<h2 id="verdict">有効</h2>' in page and "署名後の変更はありません" in page
    assert number in page and "検証する起案" in page
    assert f'href="/approvals/{request_id}"' in page and "発行時の記録と同一です" in page


def test_verify_form_gives_no_link_to_someone_who_may_not_see_the_request(
    client: Any, signed: tuple[int, bytes, str]
) -> None:
    """Is a valid record shown as valid to a stranger, without a link to the request?"""
    request_id, pdf, _number = signed
    login(client, "tanaka")
    page = _post(client, pdf, _token(client)).get_data(as_text=True)
    assert '<h2 id="verdict">有効</h2>' in page
    assert f'href="/approvals/{request_id}"' not in page and "閲覧権限がない" in page


@pytest.mark.parametrize("where", [0.3, 0.6, 0.95])
def test_any_changed_byte_is_reported_invalid_in_japanese(
    client: Any, signed: tuple[int, bytes, str], where: float
) -> None:
    """Does one flipped byte (early, middle, late) read 無効 with a Japanese reason and no title?"""
    _request_id, pdf, _number = signed
    login(client, "yamada")
    page = _post(client, flipped(pdf, int(len(pdf) * where)), _token(client)).get_data(as_text=True)
    assert '<h2 id="verdict">無効</h2>' in page
    reason = page.split('<p id="verify-reason">', 1)[1].split("</p>", 1)[0]
    assert reason and any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in reason)
    assert "検証する起案" not in page  # an altered file may not reveal a request's title


def test_unsigned_draft_pdf_is_invalid(client: Any, org: dict[str, Any]) -> None:
    """Is the unsigned, watermarked PDF of a request still in progress reported as 無効?"""
    row = service.create(org["yamada"], {"route": "general", "title": "未決裁", "submit": True})
    login(client, "yamada")
    draft = client.get(f"/api/v1/approvals/{row.id}/pdf").data
    page = _post(client, draft, _token(client)).get_data(as_text=True)
    assert '<h2 id="verdict">無効</h2>' in page and "電子署名がありません" in page


def test_verify_form_needs_a_file_and_a_csrf_token(client: Any, signed: tuple[int, bytes, str]) -> None:
    """Is a post without a file a 400 with a Japanese message, and one without the CSRF token refused?"""
    _request_id, pdf, _number = signed
    login(client, "yamada")
    token = _token(client)
    missing = _post(client, None, token)
    assert missing.status_code == 400 and "PDFファイルを選んでください" in missing.get_data(as_text=True)
    forged = _post(client, pdf, None)
    assert forged.status_code == 400 and 'id="verdict"' not in forged.get_data(as_text=True)


def test_verify_form_requires_sign_in(client: Any) -> None:
    """Is the page closed to anonymous visitors?"""
    assert client.get("/approvals/verify").status_code in (302, 401)


def test_cli_verify_exits_zero_for_valid_and_non_zero_for_invalid(
    app: Any, signed: tuple[int, bytes, str], tmp_path: Path
) -> None:
    """Does `workspace approvals verify FILE.pdf` print valid / INVALID with the request and exit 0 / 1?"""
    request_id, pdf, number = signed
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(pdf)
    bad.write_bytes(flipped(pdf, len(pdf) // 2))
    runner = app.test_cli_runner()
    valid = runner.invoke(args=["approvals", "verify", str(good)])
    assert valid.exit_code == 0, valid.output
    assert (
        valid.output.startswith("valid:")
        and f"request: {request_id}" in valid.output
        and number in valid.output
    )
    invalid = runner.invoke(args=["approvals", "verify", str(bad)])
    assert invalid.exit_code != 0 and invalid.output.startswith("INVALID:")
    missing = runner.invoke(args=["approvals", "verify", str(tmp_path / "none.pdf")])
    assert missing.exit_code != 0


def test_cli_keys_init_creates_keys_once_and_they_judge_other_records_untrusted(
    app: Any, signed: tuple[int, bytes, str], tmp_path: Path
) -> None:
    """Does `workspace keys init` create key and certificate, refuse a second run, and make a new CA?"""
    _request_id, pdf, _number = signed
    app.config["APPROVALS_KEY_DIR"] = str(tmp_path / "keys")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["keys", "init"])
    assert first.exit_code == 0, first.output
    assert "signing certificate:" in first.output
    assert (tmp_path / "keys" / "signing-key.pem").exists()
    again = runner.invoke(args=["keys", "init"])
    assert again.exit_code != 0
    # A record signed under the other village keys is not trusted by these.
    record = tmp_path / "other.pdf"
    record.write_bytes(pdf)
    untrusted = runner.invoke(args=["approvals", "verify", str(record)])
    assert untrusted.exit_code != 0 and untrusted.output.startswith("INVALID:")


def test_verify_form_refuses_a_file_over_its_limit(
    app: Any, client: Any, signed: tuple[int, bytes, str]
) -> None:
    """Is a file over APPROVALS_VERIFY_MAX_BYTES refused with 400 and a Japanese message, unchecked?"""
    _request_id, pdf, _number = signed
    app.config["APPROVALS_VERIFY_MAX_BYTES"] = 1024
    login(client, "yamada")
    response = _post(client, pdf, _token(client))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "ファイルが大きすぎます（上限 1 KB）。" in page
    assert 'id="verdict"' not in page
