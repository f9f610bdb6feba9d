"""Retention: 保存期間満了日 across the 年度 boundary, the 満了 list, 廃棄 and 延長."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from docsearch import files, retention
from docsearch.errors import DocumentError
from docsearch.models import DisposalRecord, Document, StoredFile
from tests.docsearch.conftest import auth, search, upload
from workspace import calendar, db


@pytest.mark.parametrize(
    ("fiscal_year", "years", "until"),
    [(2026, 1, "2028-03-31"), (2026, 5, "2032-03-31"), (2025, 30, "2056-03-31"), (2026, 10, "2037-03-31")],
)
def test_retention_until_is_31_march_after_the_years(
    client: Any, tokens: dict[str, str], fiscal_year: int, years: int, until: str
) -> None:
    """Is 保存期間満了日 31 March of (年度 + 1 + years)"""
    body = upload(
        client, tokens["yamada"], b"r", "r.txt", fiscal_year=fiscal_year, retention_years=years
    ).get_json()
    assert body["retention_until"] == until


def test_fiscal_year_boundary_decides_the_end() -> None:
    """Do 31 March and 1 April of one calendar year fall in different 年度 with different ends"""
    march = calendar.fiscal_year(dt.date(2027, 3, 31))
    april = calendar.fiscal_year(dt.date(2027, 4, 1))
    assert (march, april) == (2026, 2027)
    assert calendar.retention_until(march, 1) == dt.date(2028, 3, 31)
    assert calendar.retention_until(april, 1) == dt.date(2029, 3, 31)


def _old_document(client: Any, token: str, text: str = "古い文書") -> int:
    response = upload(client, token, text.encode(), "old.txt", fiscal_year=2015, retention_years=1)
    assert response.status_code == 201
    return response.get_json()["id"]  # retention_until 2017-03-31


def test_expired_list_is_for_records_staff(
    client: Any, tokens: dict[str, str], people: dict[str, Any]
) -> None:
    """Does the 満了 list show expired documents to records staff and refuse others"""
    old = _old_document(client, tokens["kiroku"])
    upload(client, tokens["kiroku"], b"new", "new.txt", fiscal_year=2026, retention_years=5)
    response = client.get("/api/v1/retention/expired", headers=auth(tokens["kiroku"]))
    assert [d["id"] for d in response.get_json()["documents"]] == [old]
    assert client.get("/api/v1/retention/expired", headers=auth(tokens["yamada"])).status_code == 403
    on_last_day = client.get("/api/v1/retention/expired?as_of=2017-03-31", headers=auth(tokens["kiroku"]))
    assert on_last_day.get_json()["documents"] == []  # still kept on its last day


def test_dispose_removes_file_and_index_entry_and_keeps_a_record(
    app: Any, client: Any, tokens: dict[str, str]
) -> None:
    """Does 廃棄 remove the file and the index entry, and leave a disposal record (what, when, who, why)"""
    doc_id = _old_document(client, tokens["kiroku"], "廃棄予定の台帳")
    sha = client.get(f"/api/v1/documents/{doc_id}", headers=auth(tokens["kiroku"])).get_json()["sha256"]
    assert files.path_for(sha).exists()
    assert search(client, tokens["kiroku"], q="台帳").get_json()["total"] == 1
    response = client.post(
        f"/api/v1/documents/{doc_id}/dispose",
        json={"reason": "保存期間満了のため"},
        headers=auth(tokens["kiroku"]),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["files"][0]["sha256"] == sha
    assert not files.path_for(sha).exists()
    assert db.session().get(StoredFile, sha) is None
    assert search(client, tokens["kiroku"], q="台帳").get_json()["total"] == 0
    record = db.session().query(DisposalRecord).one()
    assert (record.title, record.actor, record.reason) == ("テスト文書", "kiroku", "保存期間満了のため")
    assert db.session().get(Document, doc_id).status == "disposed"
    assert client.get(f"/api/v1/documents/{doc_id}", headers=auth(tokens["yamada"])).status_code == 404


def test_dispose_keeps_a_file_another_document_still_uses(client: Any, tokens: dict[str, str]) -> None:
    """Is a shared file kept when only one of its documents is disposed"""
    old = upload(
        client, tokens["kiroku"], b"shared bytes", "a.txt", fiscal_year=2015, retention_years=1
    ).get_json()
    upload(client, tokens["kiroku"], b"shared bytes", "b.txt", fiscal_year=2026, retention_years=5)
    client.post(
        f"/api/v1/documents/{old['id']}/dispose", json={"reason": "満了"}, headers=auth(tokens["kiroku"])
    )
    assert files.path_for(old["sha256"]).exists()


def test_dispose_is_refused_before_expiry_without_reason_and_for_staff(
    client: Any, tokens: dict[str, str], people: dict[str, Any]
) -> None:
    """Are early disposal (409), a missing reason (422) and staff without the records role (403) refused"""
    young = upload(
        client, tokens["kiroku"], b"young", "y.txt", fiscal_year=2026, retention_years=5
    ).get_json()
    forever = upload(client, tokens["kiroku"], b"f", "f.txt", retention_years="permanent").get_json()
    old = _old_document(client, tokens["kiroku"])

    def post(i: int, who: str, body: dict[str, str]) -> Any:
        return client.post(f"/api/v1/documents/{i}/dispose", json=body, headers=auth(tokens[who]))

    assert post(young["id"], "kiroku", {"reason": "x"}).status_code == 409
    assert post(forever["id"], "kiroku", {"reason": "x"}).status_code == 409
    assert post(old, "kiroku", {"reason": " "}).status_code == 422
    assert post(old, "yamada", {"reason": "x"}).status_code == 403
    with pytest.raises(DocumentError):
        retention.dispose(people["kiroku"], old, "")


def test_extend_moves_the_end_and_takes_it_off_the_list(client: Any, tokens: dict[str, str]) -> None:
    """Does 延長 with a reason and a later date move the end and take the document off the 満了 list"""
    old = _old_document(client, tokens["kiroku"])
    bad = client.post(
        f"/api/v1/documents/{old}/extend",
        json={"reason": "訴訟対応", "retention_until": "2016-03-31"},
        headers=auth(tokens["kiroku"]),
    )
    assert bad.status_code == 422
    response = client.post(
        f"/api/v1/documents/{old}/extend",
        json={"reason": "訴訟対応", "retention_until": "2031-03-31"},
        headers=auth(tokens["kiroku"]),
    )
    assert response.status_code == 200
    assert response.get_json()["retention_until"] == "2031-03-31"
    listed = client.get("/api/v1/retention/expired", headers=auth(tokens["kiroku"])).get_json()["documents"]
    assert listed == []


def test_disposed_files_directory_has_no_orphans(app: Any, client: Any, tokens: dict[str, str]) -> None:
    """Is the file store empty after the only document is disposed"""
    old = _old_document(client, tokens["kiroku"])
    client.post(f"/api/v1/documents/{old}/dispose", json={"reason": "満了"}, headers=auth(tokens["kiroku"]))
    root = Path(app.config["DATA_DIR"]) / "files"
    assert [p for p in root.rglob("*") if p.is_file() and "tmp" not in p.relative_to(root).parts] == []
