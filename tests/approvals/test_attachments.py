"""Attachments of a 起案: upload, sniffing, limits, freezing at submission, download, PDF and signal."""

from __future__ import annotations

import hashlib
import io
import subprocess
from pathlib import Path
from typing import Any

import pytest

from approvals import attachments, service
from approvals.models import ApprovalAttachment, ApprovalRequest
from tests.approvals import test_service_support as support
from tests.approvals.test_service_support import bearer
from tests.conftest import api_token, csrf_from, login
from workspace import audit, db, signals

org = support.org
shared_keys = support.shared_keys

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


@pytest.fixture
def app_config(shared_keys: str) -> dict[str, Any]:
    """The shared village keys and a small attachment limit (1 KiB) so that 'too large' is cheap."""
    return {"APPROVALS_KEY_DIR": shared_keys, "APPROVALS_ATTACHMENT_MAX_BYTES": 1024}


@pytest.fixture
def tokens(client: Any, org: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Bearer headers for the drafter, the 係長, the 課長 and a stranger."""
    return {name: bearer(api_token(client, name)) for name in ("yamada", "suzuki", "sato", "tanaka")}


def _draft(client: Any, headers: dict[str, str], submit: bool = False) -> int:
    body = {"route": "general", "title": "備品購入", "amount": 100000, "submit": submit}
    response = client.post("/api/v1/approvals", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _upload(client: Any, headers: dict[str, str], request_id: int, data: bytes, name: str) -> Any:
    return client.post(
        f"/api/v1/approvals/{request_id}/attachments",
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def _store(app: Any) -> Path:
    return Path(app.config["DATA_DIR"]) / "approvals" / "files"


def _stored_files(app: Any) -> list[Path]:
    """Every file in the store, the temporary folder included."""
    return [p for p in _store(app).rglob("*") if p.is_file()]


def _rows() -> list[ApprovalAttachment]:
    db.session().expire_all()
    return list(db.session().query(ApprovalAttachment).all())


def test_drafter_attaches_a_pdf_and_gets_its_sha256(app: Any, client: Any, tokens: dict) -> None:
    """Does POST …/attachments answer 201 {id, name, size, sha256, content_type} and store by content?"""
    request_id = _draft(client, tokens["yamada"])
    response = _upload(client, tokens["yamada"], request_id, PDF, "見積書.pdf")
    assert response.status_code == 201
    body = response.get_json()
    digest = hashlib.sha256(PDF).hexdigest()
    assert body == {
        "id": body["id"],
        "name": "見積書.pdf",
        "size": len(PDF),
        "sha256": digest,
        "content_type": "application/pdf",
    }
    stored = _store(app) / digest[:2] / digest[2:4] / digest
    assert stored.read_bytes() == PDF
    assert not list((_store(app) / "tmp").iterdir())  # no temporary copy left behind
    listed = client.get(f"/api/v1/approvals/{request_id}", headers=tokens["yamada"]).get_json()
    assert listed["attachments"] == [body] and listed["attachments_frozen"] is False


def test_download_is_an_attachment_with_nosniff_only_for_those_who_may_see(client: Any, tokens: dict) -> None:
    """Do the drafter and an approver get the bytes (attachment, nosniff) and a stranger a 404?"""
    request_id = _draft(client, tokens["yamada"])
    aid = _upload(client, tokens["yamada"], request_id, b"a,b\n1,2\n", "data.csv").get_json()["id"]
    url = f"/api/v1/approvals/{request_id}/attachments/{aid}"
    # A draft is the drafter's alone.
    assert client.get(url, headers=tokens["suzuki"]).status_code == 404
    assert client.post(f"/api/v1/approvals/{request_id}/submit", headers=tokens["yamada"]).status_code == 200
    for who in ("yamada", "suzuki"):
        response = client.get(url, headers=tokens[who])
        assert response.status_code == 200
        assert response.data == b"a,b\n1,2\n"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.mimetype == "text/csv"
    stranger = client.get(url, headers=tokens["tanaka"])
    assert stranger.status_code == 404 and stranger.get_json()["error"]["code"] == "not_found"
    assert (
        client.get(
            f"/api/v1/approvals/{request_id}/attachments/{aid + 99}", headers=tokens["yamada"]
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("data", "name", "code", "message"),
    [
        (PNG, "請求書.pdf", "type_mismatch", "拡張子（.pdf）と一致しません"),
        (PDF, "写真.png", "type_mismatch", "拡張子（.png）と一致しません"),
        (EXE, "readme.txt", "unsupported_type", "この形式（exe）のファイルは添付できません"),
        (b"\x00\x01\x02\xff\xfe\x00" * 10, "blob.bin", "unsupported_type", "形式を判別できない"),
        ("テキスト".encode(), "memo.docx", "type_mismatch", "拡張子（.docx）と一致しません"),
    ],
)
def test_a_file_whose_name_lies_about_its_content_is_refused_with_415(
    app: Any, client: Any, tokens: dict, data: bytes, name: str, code: str, message: str
) -> None:
    """Is a file whose type is not allowed or contradicts its extension a 415 that writes nothing?"""
    request_id = _draft(client, tokens["yamada"])
    response = _upload(client, tokens["yamada"], request_id, data, name)
    assert response.status_code == 415
    error = response.get_json()["error"]
    assert error["code"] == code and message in error["message"]
    assert _rows() == [] and _stored_files(app) == []


def test_text_and_csv_in_shift_jis_or_utf8_are_accepted(client: Any, tokens: dict) -> None:
    """Is plain text recognised without a signature: UTF-8 .txt, Shift_JIS .csv?"""
    request_id = _draft(client, tokens["yamada"])
    txt = _upload(client, tokens["yamada"], request_id, "議事録です。".encode(), "議事録.txt")
    csv = _upload(client, tokens["yamada"], request_id, "品名,金額\n机,30000\n".encode("cp932"), "明細.csv")
    assert (txt.status_code, txt.get_json()["content_type"]) == (201, "text/plain")
    assert (csv.status_code, csv.get_json()["content_type"]) == (201, "text/csv")


def test_no_file_empty_file_and_too_large_are_clear_4xx(app: Any, client: Any, tokens: dict) -> None:
    """Do a missing file (400), an empty one (422) and one over the limit (413) answer in Japanese?"""
    request_id = _draft(client, tokens["yamada"])
    url = f"/api/v1/approvals/{request_id}/attachments"
    missing = client.post(url, data={}, headers=tokens["yamada"], content_type="multipart/form-data")
    assert missing.status_code == 400 and "ファイルを選んでください" in missing.get_json()["error"]["message"]
    empty = _upload(client, tokens["yamada"], request_id, b"", "空.txt")
    assert empty.status_code == 422 and empty.get_json()["error"]["message"] == "ファイルが空です。"
    large = _upload(client, tokens["yamada"], request_id, b"x" * 1025, "大きい.txt")
    assert large.status_code == 413
    assert large.get_json()["error"]["message"] == "ファイルが大きすぎます（上限 1 KB）。"
    assert _rows() == [] and _stored_files(app) == []


def test_someone_elses_request_is_404_or_403(client: Any, tokens: dict) -> None:
    """Is a stranger told 404 (no existence leak) and an approver who can see it 403?"""
    request_id = _draft(client, tokens["yamada"], submit=True)
    stranger = _upload(client, tokens["tanaka"], request_id, PDF, "a.pdf")
    approver = _upload(client, tokens["suzuki"], request_id, PDF, "a.pdf")
    assert stranger.status_code == 404
    assert approver.status_code == 403 and "起案者だけ" in approver.get_json()["error"]["message"]
    assert _rows() == []


def test_attachments_are_frozen_at_submission_until_a_send_back(client: Any, tokens: dict) -> None:
    """After 起案: no add or delete (409); after 差戻し to the drafter: both; 再提出 freezes the new list."""
    request_id = _draft(client, tokens["yamada"])
    first = _upload(client, tokens["yamada"], request_id, PDF, "見積書.pdf").get_json()
    client.post(f"/api/v1/approvals/{request_id}/submit", headers=tokens["yamada"])
    row = db.session().get(ApprovalRequest, request_id)
    assert row.attachments_frozen == [first]
    late = _upload(client, tokens["yamada"], request_id, b"late", "追加.txt")
    assert (
        late.status_code == 409
        and "起案後は添付ファイルを変更できません" in late.get_json()["error"]["message"]
    )
    gone = client.delete(
        f"/api/v1/approvals/{request_id}/attachments/{first['id']}", headers=tokens["yamada"]
    )
    assert gone.status_code == 409
    assert client.get(f"/api/v1/approvals/{request_id}", headers=tokens["yamada"]).get_json()[
        "attachments_frozen"
    ]

    back = client.post(
        f"/api/v1/approvals/{request_id}/actions", json={"action": "send_back"}, headers=tokens["suzuki"]
    )
    assert back.get_json()["status"] == "sent_back"
    second = _upload(client, tokens["yamada"], request_id, b"late", "追加.txt")
    assert second.status_code == 201
    url = f"/api/v1/approvals/{request_id}/attachments/{first['id']}"
    assert client.delete(url, headers=tokens["yamada"]).status_code == 204
    client.post(
        f"/api/v1/approvals/{request_id}/actions", json={"action": "resubmit"}, headers=tokens["yamada"]
    )
    db.session().expire_all()
    assert db.session().get(ApprovalRequest, request_id).attachments_frozen == [second.get_json()]


def test_delete_removes_the_row_and_unshared_bytes(app: Any, client: Any, tokens: dict) -> None:
    """Does DELETE remove the row, and the stored file only when no other attachment shares it?"""
    one = _draft(client, tokens["yamada"])
    two = _draft(client, tokens["yamada"])
    a = _upload(client, tokens["yamada"], one, PDF, "a.pdf").get_json()
    b = _upload(client, tokens["yamada"], two, PDF, "b.pdf").get_json()
    assert (
        client.delete(f"/api/v1/approvals/{one}/attachments/{a['id']}", headers=tokens["yamada"]).status_code
        == 204
    )
    assert len(_stored_files(app)) == 1  # still used by the other draft
    assert (
        client.delete(f"/api/v1/approvals/{two}/attachments/{b['id']}", headers=tokens["yamada"]).status_code
        == 204
    )
    assert _rows() == [] and _stored_files(app) == []
    # Another request's attachment id through this request's URL is not found.
    c = _upload(client, tokens["yamada"], two, PDF, "c.pdf").get_json()
    assert (
        client.delete(f"/api/v1/approvals/{one}/attachments/{c['id']}", headers=tokens["yamada"]).status_code
        == 404
    )


def test_a_failing_transaction_leaves_neither_row_nor_file(
    app: Any, client: Any, tokens: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If writing the row fails after the file is in place, is the file removed again?"""
    request_id = _draft(client, tokens["yamada"])

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("audit is down")

    monkeypatch.setattr(audit, "record", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = _upload(client, tokens["yamada"], request_id, PDF, "a.pdf")
    assert response.status_code == 500
    assert _rows() == [] and _stored_files(app) == []


def test_record_lists_frozen_attachments_and_signal_carries_them(
    app: Any, client: Any, tokens: dict, tmp_path: Path
) -> None:
    """Does the signed PDF list the attachments with SHA-256, and approval_decided carry name/sha256/path?"""
    request_id = _draft(client, tokens["yamada"])
    item = _upload(client, tokens["yamada"], request_id, PDF, "見積書.pdf").get_json()
    client.post(f"/api/v1/approvals/{request_id}/submit", headers=tokens["yamada"])
    decided: list[dict[str, Any]] = []

    def on_decided(_sender: Any, **kw: Any) -> None:
        decided.append(kw)

    signals.approval_decided.connect(on_decided)
    try:
        for who in ("suzuki", "sato"):
            response = client.post(
                f"/api/v1/approvals/{request_id}/actions", json={"action": "approve"}, headers=tokens[who]
            )
            assert response.status_code == 200
    finally:
        signals.approval_decided.disconnect(on_decided)
    assert response.get_json()["status"] == "approved"
    (sent,) = decided[0]["attachments"]
    assert {k: sent[k] for k in ("name", "size", "sha256", "content_type")} == {
        k: item[k] for k in ("name", "size", "sha256", "content_type")
    }
    assert hashlib.sha256(Path(sent["path"]).read_bytes()).hexdigest() == item["sha256"]

    pdf = client.get(f"/api/v1/approvals/{request_id}/pdf", headers=tokens["yamada"]).data
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "見積書.pdf" in text and item["sha256"] in text.replace("\n", "")


def test_service_refuses_a_withdrawn_request(org: dict[str, Any]) -> None:
    """Is a withdrawn request (not sent back) closed to attachments, with 409?"""
    row = service.create(org["yamada"], {"route": "general", "title": "取下げ", "submit": True})
    service.act(org["yamada"], row.id, "withdraw")
    with pytest.raises(service.Conflict):
        attachments.add(org["yamada"], row.id, io.BytesIO(PDF), "a.pdf")


def test_detail_page_uploads_lists_sha256_and_deletes(app: Any, client: Any, org: dict[str, Any]) -> None:
    """Does the draft page offer a labelled file input, list the file with its SHA-256, and delete it?"""
    row = service.create(org["yamada"], {"route": "general", "title": "画面から添付"})
    login(client, "yamada")
    page = client.get(f"/approvals/{row.id}").get_data(as_text=True)
    assert '<label for="attachment-file">添付するファイル</label>' in page
    token = csrf_from(page)
    done = client.post(
        f"/approvals/{row.id}/attachments",
        data={"csrf_token": token, "file": (io.BytesIO(PDF), "見積書.pdf")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    page = client.get(f"/approvals/{row.id}").get_data(as_text=True)
    assert "見積書.pdf を添付しました。" in page and hashlib.sha256(PDF).hexdigest() in page
    lying = client.post(
        f"/approvals/{row.id}/attachments",
        data={"csrf_token": token, "file": (io.BytesIO(PNG), "偽物.pdf")},
        content_type="multipart/form-data",
    )
    page = client.get(lying.headers["Location"]).get_data(as_text=True)
    assert "拡張子（.pdf）と一致しません" in page
    (attachment,) = _rows()
    download = client.get(f"/approvals/{row.id}/attachments/{attachment.id}")
    assert download.data == PDF and download.headers["X-Content-Type-Options"] == "nosniff"
    client.post(f"/approvals/{row.id}/attachments/{attachment.id}/delete", data={"csrf_token": token})
    assert _rows() == []


def test_draft_form_attaches_files_then_submits(client: Any, org: dict[str, Any]) -> None:
    """Does the new-draft form take files, attach them and submit, freezing the list?"""
    login(client, "yamada")
    page = client.get("/approvals/new").get_data(as_text=True)
    assert '<label for="attachments">' in page and 'enctype="multipart/form-data"' in page
    form = {
        "csrf_token": csrf_from(page),
        "route": "general",
        "title": "添付つき起案",
        "submit": "1",
        "attachments": [(io.BytesIO(PDF), "見積書.pdf"), (io.BytesIO(b"memo"), "memo.txt")],
    }
    response = client.post("/approvals/new", data=form, content_type="multipart/form-data")
    assert response.status_code == 302
    db.session().expire_all()
    row = db.session().query(ApprovalRequest).filter_by(title="添付つき起案").one()
    assert row.status == "in_progress"
    assert [a["name"] for a in row.attachments_frozen] == ["見積書.pdf", "memo.txt"]
