"""Approved 決裁 are filed in the registry automatically with their signed PDF."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import func, select

from docsearch import filing, registry
from docsearch.models import Classification, Document
from tests.approvals import test_service_support as support
from tests.conftest import api_token
from tests.docsearch.conftest import auth, search
from workspace import calendar, db, signals

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys


@pytest.fixture
def tok(client: Any, org: dict[str, Any], people: dict[str, Any]) -> dict[str, str]:
    """A bearer token for the drafter, the route, an outsider and the records clerk."""
    db.session().add(Classification(code="01-02-03", major="総務", middle="財産管理", minor="公用車"))
    db.session().commit()
    return {name: api_token(client, name) for name in ("yamada", "suzuki", "sato", "tanaka", "kiroku")}


def _decide(client: Any, tok: dict[str, str], **extra: Any) -> dict[str, Any]:
    """Draft, submit, approve and decide a request through the API; return the decided request."""
    created = client.post(
        "/api/v1/approvals",
        json={
            "route": "general",
            "title": "公用車の購入について",
            "body": "軽自動車を一台購入する",
            "amount": 300000,
            "submit": True,
            **extra,
        },
        headers=auth(tok["yamada"]),
    )
    assert created.status_code == 201, created.get_json()
    url = f"/api/v1/approvals/{created.get_json()['id']}/actions"
    assert client.post(url, json={"action": "approve"}, headers=auth(tok["suzuki"])).status_code == 200
    decided = client.post(url, json={"action": "approve"}, headers=auth(tok["sato"]))
    assert decided.status_code == 200 and decided.get_json()["status"] == "approved"
    return decided.get_json()


def _documents() -> int:
    db.session().commit()
    return db.session().execute(select(func.count()).select_from(Document)).scalar_one()


def test_decided_request_is_filed_with_its_signed_pdf(client: Any, tok: dict[str, str]) -> None:
    """Is the decided request a document with the same PDF bytes, its metadata, and found by its title?"""
    decided = _decide(client, tok, classification="01-02-03", retention_years=10)
    pdf = client.get(f"/api/v1/approvals/{decided['id']}/pdf", headers=auth(tok["yamada"]))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    found = search(client, tok["yamada"], q="公用車の購入", type="document").get_json()
    assert found["total"] == 1
    doc_id = found["results"][0]["id"]
    doc = client.get(f"/api/v1/documents/{doc_id}", headers=auth(tok["yamada"])).get_json()
    assert doc["sha256"] == hashlib.sha256(pdf.data).hexdigest()
    assert doc["title"] == "公用車の購入について" and doc["document_number"] == decided["document_number"]
    assert doc["classification"] == "01-02-03" and doc["retention_years"] == 10
    assert doc["department_code"] == "01" and doc["visibility"] == "department"
    assert doc["fiscal_year"] == calendar.fiscal_year(calendar.today())
    assert doc["mime_type"] == "application/pdf" and "決裁" in doc["tags"]
    file = client.get(f"/api/v1/documents/{doc_id}/file", headers=auth(tok["kiroku"]))
    assert file.status_code == 200 and file.data == pdf.data
    # 課内限り: the other 課 sees nothing of it.
    assert client.get(f"/api/v1/documents/{doc_id}", headers=auth(tok["tanaka"])).status_code == 404
    assert search(client, tok["tanaka"], q="公用車の購入").get_json()["total"] == 0


def test_second_signal_files_nothing_new(app: Any, client: Any, tok: dict[str, str]) -> None:
    """Does a repeated approval_decided for the same request leave exactly one document?"""
    decided = _decide(client, tok)
    assert _documents() == 1
    pdf = client.get(f"/api/v1/approvals/{decided['id']}/pdf", headers=auth(tok["yamada"])).data
    signals.approval_decided.send(app, request_id=decided["id"], pdf=pdf, attachments=[])
    assert filing.file_decision(decided["id"], pdf) is None
    assert _documents() == 1


def test_unknown_classification_is_kept_as_a_tag_and_permanent_retention(
    client: Any, tok: dict[str, str]
) -> None:
    """Is a classification not in the table kept as a tag, and no 保存年限 filed as 永年?"""
    decided = _decide(client, tok, classification="財産・車両", retention_years=None)
    doc = filing.filing_of(decided["id"])
    assert doc is not None and doc.classification is None and "分類:財産・車両" in doc.tags
    assert doc.retention_years is None and doc.retention_until is None


def test_filing_failure_does_not_undo_the_decision(
    app: Any,
    client: Any,
    tok: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """If the registry refuses, does the decision stand, the failure get logged, and file-decisions repair?"""

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(registry, "register", broken)
    decided = _decide(client, tok)
    assert decided["status"] == "approved"
    assert _documents() == 0
    assert "docsearch.file" in caplog.text and "disk full" in caplog.text  # the outbox job failed
    monkeypatch.undo()
    result = app.test_cli_runner().invoke(args=["file-decisions"])
    assert result.exit_code == 0 and "filed 1 decided requests, failed 0" in result.output, result.output
    assert _documents() == 1 and filing.filing_of(decided["id"]) is not None
    again = app.test_cli_runner().invoke(args=["file-decisions"])
    assert "filed 0 decided requests" in again.output and _documents() == 1
