"""The attachments of a decided 決裁 are filed beside its signed record, searchable, with the same readers."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from sqlalchemy import func, select

from docsearch import filing
from docsearch.models import ApprovalAttachmentFiling, Document
from tests.approvals import test_service_support as support
from tests.conftest import api_token, login
from tests.docsearch.conftest import auth, search
from tests.docsearch.samples import pdf_bytes
from workspace import db

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys

ESTIMATE = "公用車見積書\n軽自動車 一台 1,280,000円\n".encode("cp932")
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def tok(client: Any, org: dict[str, Any], people: dict[str, Any]) -> dict[str, str]:
    """Tokens for the drafter, the route, an outsider and the records clerk."""
    return {name: api_token(client, name) for name in ("yamada", "suzuki", "sato", "tanaka", "kiroku")}


def _attach(client: Any, token: str, request_id: int, data: bytes, name: str) -> None:
    response = client.post(
        f"/api/v1/approvals/{request_id}/attachments",
        data={"file": (io.BytesIO(data), name)},
        headers=auth(token),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()


def _decide_with(client: Any, tok: dict[str, str], files: list[tuple[bytes, str]]) -> dict[str, Any]:
    created = client.post(
        "/api/v1/approvals",
        json={"route": "general", "title": "公用車の購入について", "body": "購入する", "amount": 300000},
        headers=auth(tok["yamada"]),
    )
    assert created.status_code == 201, created.get_json()
    request_id = created.get_json()["id"]
    for data, name in files:
        _attach(client, tok["yamada"], request_id, data, name)
    url = f"/api/v1/approvals/{request_id}/actions"
    assert client.post(url, json={"action": "submit"}, headers=auth(tok["yamada"])).status_code == 200
    assert client.post(url, json={"action": "approve"}, headers=auth(tok["suzuki"])).status_code == 200
    decided = client.post(url, json={"action": "approve"}, headers=auth(tok["sato"]))
    assert decided.get_json()["status"] == "approved"
    return decided.get_json()


def _filed_attachments() -> int:
    db.session().commit()
    return db.session().execute(select(func.count()).select_from(ApprovalAttachmentFiling)).scalar_one()


def test_attachments_are_filed_searchable_beside_the_record(client: Any, tok: dict[str, str]) -> None:
    """Is each attachment a document of its own with the record's metadata, found by its own text"""
    decided = _decide_with(
        client, tok, [(ESTIMATE, "見積書.csv"), (pdf_bytes("仕様書", "車両の仕様"), "仕様書.pdf")]
    )
    record = filing.filing_of(decided["id"])
    assert record is not None
    found = search(client, tok["suzuki"], q="軽自動車 見積書", type="document").get_json()
    assert [r["title"] for r in found["results"]] == ["公用車の購入について（添付: 見積書.csv）"]
    doc = client.get(f"/api/v1/documents/{found['results'][0]['id']}", headers=auth(tok["suzuki"])).get_json()
    assert doc["sha256"] == hashlib.sha256(ESTIMATE).hexdigest()
    assert doc["document_number"] == decided["document_number"] and doc["visibility"] == "department"
    assert "決裁添付" in doc["tags"]
    assert [d.title for d in filing.attachments_of(record)] == [
        "公用車の購入について（添付: 見積書.csv）",
        "公用車の購入について（添付: 仕様書.pdf）",
    ]
    # The readers are the record's: the other 課 finds nothing.
    assert search(client, tok["tanaka"], q="軽自動車").get_json()["total"] == 0


def test_an_attachment_the_registry_refuses_is_reported_and_the_rest_filed(
    app: Any, client: Any, tok: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Is a photo (a type the registry does not hold) logged and left in approvals, the rest filed"""
    decided = _decide_with(client, tok, [(PNG, "現場写真.png"), (ESTIMATE, "見積書.csv")])
    assert _filed_attachments() == 1
    assert "現場写真.png" in caplog.text and "was not filed" in caplog.text
    result = app.test_cli_runner().invoke(args=["file-decisions"])
    assert result.exit_code == 0
    assert "filed 0 attachments, 1 not accepted by the registry" in result.output
    assert f"approval {decided['id']} attachment 現場写真.png" in result.output
    assert _filed_attachments() == 1


def test_file_decisions_files_attachments_a_crash_left_behind(
    app: Any, client: Any, tok: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If filing the attachments failed, does `workspace file-decisions` file them, once"""

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(filing, "file_attachments", broken)
    decided = _decide_with(client, tok, [(ESTIMATE, "見積書.csv")])
    assert filing.filing_of(decided["id"]) is not None and _filed_attachments() == 0
    monkeypatch.undo()
    result = app.test_cli_runner().invoke(args=["file-decisions"])
    assert "filed 1 attachments, 0 not accepted" in result.output, result.output
    again = app.test_cli_runner().invoke(args=["file-decisions"])
    assert "filed 0 attachments" in again.output
    assert _filed_attachments() == 1


def test_detail_pages_link_the_record_and_its_attachments(client: Any, tok: dict[str, str]) -> None:
    """Does the record's page list its attachments, and each attachment's page link back"""
    decided = _decide_with(client, tok, [(ESTIMATE, "見積書.csv")])
    record = filing.filing_of(decided["id"])
    attached = filing.attachments_of(record)[0]
    login(client, "suzuki")
    page = client.get(f"/documents/{record.id}").get_data(as_text=True)
    assert f'href="/documents/{attached.id}"' in page and "（添付: 見積書.csv）" in page
    back = client.get(f"/documents/{attached.id}").get_data(as_text=True)
    assert 'id="record-link"' in back and f'href="/documents/{record.id}"' in back
    assert db.session().get(Document, attached.id).fiscal_year == record.fiscal_year
