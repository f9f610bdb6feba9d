"""The registry API: registration, reading, files, versions, bad input."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from docsearch.models import Document, StoredFile
from tests.docsearch.conftest import auth, upload
from tests.docsearch.samples import pdf_bytes
from workspace import db


def _stored_files(app: Any) -> list[Path]:
    root = Path(app.config["DATA_DIR"]) / "files"
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if p.is_file() and "tmp" not in p.relative_to(root).parts]


def test_register_pdf_returns_201_with_sha256_and_retention_until(
    client: Any, tokens: dict[str, str]
) -> None:
    """Can staff register a PDF and get its id, sha256 and 保存期間満了日 back"""
    response = upload(
        client, tokens["yamada"], pdf_bytes("令和8年度予算書"), "yosan.pdf", title="予算書", retention_years=5
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["title"] == "予算書"
    assert len(body["sha256"]) == 64
    assert body["retention_until"] == "2032-03-31"
    assert body["visibility"] == "internal"
    again = client.get(f"/api/v1/documents/{body['id']}", headers=auth(tokens["tanaka"]))
    assert again.status_code == 200
    assert again.get_json()["sha256"] == body["sha256"]


def test_permanent_retention_has_no_end(client: Any, tokens: dict[str, str]) -> None:
    """Is 永年 accepted in its spellings and stored without an end date"""
    for value in ("permanent", "永年"):
        response = upload(client, tokens["yamada"], f"永年 {value}".encode(), "a.txt", retention_years=value)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["retention_until"] is None
        assert response.get_json()["retention_years"] == "permanent"


def test_bad_retention_years_is_422_and_writes_nothing(app: Any, client: Any, tokens: dict[str, str]) -> None:
    """Does a retention of 7 years fail cleanly, leaving no row and no file"""
    response = upload(client, tokens["yamada"], pdf_bytes("x"), "a.pdf", retention_years=7)
    assert response.status_code == 422
    assert response.get_json()["error"]["message"].startswith("保存年限")
    assert db.session().execute(select(func.count()).select_from(Document)).scalar_one() == 0
    assert _stored_files(app) == []


def test_unknown_department_and_visibility_are_422(client: Any, tokens: dict[str, str]) -> None:
    """Are an unknown 課 and an unknown 秘区分 refused with a Japanese message"""
    assert upload(client, tokens["yamada"], b"abc", "a.txt", department_code="99").status_code == 422
    bad = upload(client, tokens["yamada"], b"abc", "a.txt", visibility="top-secret")
    assert bad.status_code == 422
    assert "秘区分" in bad.get_json()["error"]["message"]


def test_file_lying_about_its_extension_is_refused(app: Any, client: Any, tokens: dict[str, str]) -> None:
    """Is a PDF named .docx, and a PNG named .pdf, refused with 415 and nothing stored"""
    assert upload(client, tokens["yamada"], pdf_bytes("x"), "report.docx").status_code == 415
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    response = upload(client, tokens["yamada"], png, "scan.pdf")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_type"
    assert _stored_files(app) == []
    assert db.session().execute(select(func.count()).select_from(StoredFile)).scalar_one() == 0


def test_file_too_large_is_413(app: Any, client: Any, tokens: dict[str, str]) -> None:
    """Is a file over DOCUMENT_MAX_BYTES refused with 413"""
    app.config["DOCUMENT_MAX_BYTES"] = 1000
    response = upload(client, tokens["yamada"], b"a" * 2000, "big.txt")
    assert response.status_code == 413
    assert _stored_files(app) == []


def test_empty_and_missing_file_are_4xx(client: Any, tokens: dict[str, str]) -> None:
    """Are an empty file and a missing file refused"""
    assert upload(client, tokens["yamada"], b"", "empty.txt").status_code == 422
    response = client.post("/api/v1/documents", data={"title": "x"}, headers=auth(tokens["yamada"]))
    assert response.status_code == 400


def test_corrupt_pdf_is_422_and_leaves_nothing(app: Any, client: Any, tokens: dict[str, str]) -> None:
    """Is a file that starts like a PDF but is garbage refused without a half-written row or file"""
    response = upload(client, tokens["yamada"], b"%PDF-1.7\n" + b"\x13garbage" * 50, "broken.pdf")
    assert response.status_code == 422
    assert _stored_files(app) == []
    assert db.session().execute(select(func.count()).select_from(Document)).scalar_one() == 0


def test_same_content_twice_is_stored_once(app: Any, client: Any, tokens: dict[str, str]) -> None:
    """Does the content-addressed store keep one file for two documents with the same bytes"""
    content = pdf_bytes("同じ内容")
    first = upload(client, tokens["yamada"], content, "a.pdf").get_json()
    second = upload(client, tokens["yamada"], content, "b.pdf").get_json()
    assert first["sha256"] == second["sha256"]
    files = _stored_files(app)
    assert [p.name for p in files] == [first["sha256"]]
    assert files[0].parent.name == first["sha256"][2:4]


def test_download_is_an_attachment_with_nosniff(client: Any, tokens: dict[str, str]) -> None:
    """Is the file served as an attachment, byte for byte, with nosniff"""
    content = "<script>alert(1)</script> 注意".encode()
    doc = upload(client, tokens["yamada"], content, "note.txt").get_json()
    response = client.get(f"/api/v1/documents/{doc['id']}/file", headers=auth(tokens["tanaka"]))
    assert response.status_code == 200
    assert response.data == content
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.mimetype == "application/octet-stream"


def test_department_and_secret_documents_are_404_to_others(client: Any, tokens: dict[str, str]) -> None:
    """Are 課内限り and 秘 documents (and their files) hidden as 404 from who may not see them"""
    dept = upload(client, tokens["yamada"], b"dept only", "d.txt", visibility="department").get_json()
    secret = upload(client, tokens["yamada"], b"secret", "s.txt", visibility="secret").get_json()
    for path in (f"/api/v1/documents/{dept['id']}", f"/api/v1/documents/{dept['id']}/file"):
        assert client.get(path, headers=auth(tokens["tanaka"])).status_code == 404  # other 課
        assert client.get(path, headers=auth(tokens["sato"])).status_code == 200  # same 課
        assert client.get(path, headers=auth(tokens["kiroku"])).status_code == 200  # records
    for path in (f"/api/v1/documents/{secret['id']}", f"/api/v1/documents/{secret['id']}/file"):
        assert (
            client.get(path, headers=auth(tokens["sato"])).status_code == 404
        )  # same 課, not the registrant
        assert client.get(path, headers=auth(tokens["yamada"])).status_code == 200  # registrant
        assert client.get(path, headers=auth(tokens["admin"])).status_code == 200  # admin
    assert client.get("/api/v1/documents/999999", headers=auth(tokens["yamada"])).status_code == 404


def test_secret_document_can_be_granted_to_a_person(client: Any, tokens: dict[str, str]) -> None:
    """Does an explicit grant let one more person see a 秘 document"""
    doc = upload(
        client, tokens["yamada"], b"granted", "g.txt", visibility="secret", grants="tanaka"
    ).get_json()
    assert client.get(f"/api/v1/documents/{doc['id']}", headers=auth(tokens["tanaka"])).status_code == 200
    assert client.get(f"/api/v1/documents/{doc['id']}", headers=auth(tokens["sato"])).status_code == 404


def test_staff_cannot_register_for_another_department(client: Any, tokens: dict[str, str]) -> None:
    """Is registering for another 課 forbidden to staff but allowed to records staff"""
    assert upload(client, tokens["tanaka"], b"x", "a.txt", department_code="01").status_code == 403
    assert upload(client, tokens["kiroku"], b"x", "a.txt", department_code="01").status_code == 201


def test_new_version_changes_file_and_keeps_history(client: Any, tokens: dict[str, str]) -> None:
    """Does a new version become current while the old one stays downloadable"""
    doc = upload(client, tokens["yamada"], b"first version", "v.txt").get_json()
    response = client.post(
        f"/api/v1/documents/{doc['id']}/versions",
        data={"file": (io.BytesIO(b"second version"), "v2.txt")},
        headers=auth(tokens["suzuki"]),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert [v["number"] for v in body["versions"]] == [1, 2]
    assert body["sha256"] == body["versions"][1]["sha256"]
    old = client.get(f"/api/v1/documents/{doc['id']}/file?version=1", headers=auth(tokens["yamada"]))
    assert old.data == b"first version"
    denied = client.post(
        f"/api/v1/documents/{doc['id']}/versions",
        data={"file": (io.BytesIO(b"x"), "x.txt")},
        headers=auth(tokens["tanaka"]),
        content_type="multipart/form-data",
    )
    assert denied.status_code == 403


def test_session_write_needs_csrf(client: Any, people: dict[str, Any]) -> None:
    """Is a browser-session upload without the CSRF header refused"""
    from tests.conftest import login

    login(client, "yamada")
    response = client.post(
        "/api/v1/documents",
        data={"title": "x", "file": (io.BytesIO(b"x"), "a.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


def test_anonymous_is_401(client: Any) -> None:
    """Is every docsearch API call refused without sign-in"""
    assert client.get("/api/v1/search?q=予算").status_code == 401
    assert client.get("/api/v1/documents/1").status_code == 401
