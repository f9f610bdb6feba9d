"""Every authenticated download is `Cache-Control: no-store`, and a conditional request reveals nothing.

Chat attachments used to be `private, no-cache` (a browser's disk cache may keep the bytes and serve them
to whoever uses the machine next): the rule now lives in one place, the app's after_request, and wins
over whatever send_file wrote. The test downloads one file of every kind, over the API and the pages.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from tests.approvals import test_service_support as support
from tests.conftest import api_token, login
from tests.docsearch.samples import pdf_bytes
from workspace.admin import jobs

org = support.org
shared_keys = support.shared_keys
app_config = support.app_config

# Every rule of the URL map that serves a stored file or a generated one; a new download route must be
# added to DOWNLOADS below (test_every_download_route_is_covered fails otherwise).
DOWNLOAD_WORDS = ("/file", "attachments/<", "/thumbnail", "/pdf", ">/preview", "/export")
# Routes whose address looks like a download but that are pages (the 発言の書き出し form).
NOT_DOWNLOADS = {"/admin/channels/export"}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def stored(client: Any, org: dict[str, Any]) -> dict[str, Any]:
    """One chat image, one document, one 起案 with an attachment, all by yamada (総務課)."""
    yamada = _bearer(api_token(client, "yamada"))
    channels = client.get("/api/v1/channels", headers=yamada).get_json()["channels"]
    channel = next(c["id"] for c in channels if c["name"] == "総務課")
    chat = client.post(
        f"/api/v1/channels/{channel}/attachments",
        data={"file": (io.BytesIO(_png()), "写真.png")},
        headers=yamada,
        content_type="multipart/form-data",
    )
    assert chat.status_code == 201, chat.get_json()
    chat_id = chat.get_json()["id"]
    message = {"body": "写真", "attachment_ids": [chat_id]}
    posted = client.post(f"/api/v1/channels/{channel}/messages", json=message, headers=yamada)
    assert posted.status_code == 201, posted.get_json()
    document = client.post(
        "/api/v1/documents",
        data={
            "title": "会議録",
            "department_code": "01",
            "fiscal_year": "2026",
            "retention_years": "5",
            "visibility": "department",
            "file": (io.BytesIO(pdf_bytes("会議録")), "会議録.pdf"),
        },
        headers=yamada,
        content_type="multipart/form-data",
    )
    assert document.status_code == 201, document.get_json()
    draft = client.post(
        "/api/v1/approvals", json={"route": "general", "title": "備品購入", "amount": 1000}, headers=yamada
    )
    assert draft.status_code == 201, draft.get_json()
    request_id = draft.get_json()["id"]
    attachment = client.post(
        f"/api/v1/approvals/{request_id}/attachments",
        data={"file": (io.BytesIO(b"a,b\n1,2\n"), "data.csv")},
        headers=yamada,
        content_type="multipart/form-data",
    )
    assert attachment.status_code == 201, attachment.get_json()
    admin = _bearer(api_token(client, "admin"))
    export = client.post(
        "/api/v1/admin/chat/exports", json={"channel_id": channel, "format": "csv"}, headers=admin
    )
    assert export.status_code == 202, export.get_json()
    export_job = jobs.wait(export.get_json()["job"]["id"], 60)
    assert export_job is not None and export_job.state == "done", export_job and export_job.error
    return {
        "export_job": export_job.id,
        "channel": channel,
        "chat": chat_id,
        "doc": document.get_json()["id"],
        "request": request_id,
        "attachment": attachment.get_json()["id"],
    }


def _downloads(ids: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(rule, url, who) for every download the app serves; who is the username that may open it."""
    c, d, r, a = ids["chat"], ids["doc"], ids["request"], ids["attachment"]
    return [
        ("/api/v1/attachments/<int:attachment_id>", f"/api/v1/attachments/{c}", "yamada"),
        ("/api/v1/attachments/<int:attachment_id>/thumbnail", f"/api/v1/attachments/{c}/thumbnail", "yamada"),
        ("/api/v1/documents/<int:doc_id>/file", f"/api/v1/documents/{d}/file", "yamada"),
        ("/documents/<int:doc_id>/file", f"/documents/{d}/file", "yamada"),
        ("/documents/<int:doc_id>/preview", f"/documents/{d}/preview", "yamada"),
        (
            "/api/v1/approvals/<int:request_id>/attachments/<int:attachment_id>",
            f"/api/v1/approvals/{r}/attachments/{a}",
            "yamada",
        ),
        (
            "/approvals/<int:request_id>/attachments/<int:attachment_id>",
            f"/approvals/{r}/attachments/{a}",
            "yamada",
        ),
        ("/api/v1/approvals/<int:request_id>/pdf", f"/api/v1/approvals/{r}/pdf", "yamada"),
        (
            "/api/v1/admin/chat/export",
            f"/api/v1/admin/chat/export?channel_id={ids['channel']}&format=csv",
            "admin",
        ),
        ("/api/v1/admin/classifications/export", "/api/v1/admin/classifications/export", "admin"),
        ("/admin/classifications/export.csv", "/admin/classifications/export.csv?encoding=utf-8", "admin"),
        ("/admin/audit/export.csv", "/admin/audit/export.csv", "admin"),
        ("/admin/routes/<key>/export", "/admin/routes/general/export", "admin"),
        (
            "/api/v1/admin/chat/exports/<int:job_id>/file",
            f"/api/v1/admin/chat/exports/{ids['export_job']}/file",
            "admin",
        ),
        (
            "/admin/channels/export/<int:job_id>/file",
            f"/admin/channels/export/{ids['export_job']}/file",
            "admin",
        ),
    ]


def test_every_download_is_no_store_over_the_api_and_the_pages(app: Any, stored: dict[str, Any]) -> None:
    """Signed in by token (API) or by the sign-in form (pages), is every file answer `no-store`?"""
    for _rule, url, who in _downloads(stored):
        client = app.test_client()
        if url.startswith("/api/"):
            headers = _bearer(api_token(client, who))
        else:
            assert login(client, who).status_code == 302
            headers = {}
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
        assert response.data, url
        assert response.headers["Cache-Control"] == "no-store", (url, response.headers["Cache-Control"])


def test_every_download_route_is_covered(app: Any, stored: dict[str, Any]) -> None:
    """Is every route that looks like a download in the list above (so none is left out silently)?"""
    covered = {rule for rule, _url, _who in _downloads(stored)}
    downloads = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and "static" not in rule.endpoint
        and any(word in rule.rule for word in DOWNLOAD_WORDS)
        and not rule.rule.endswith("/attachments")
        and rule.rule not in NOT_DOWNLOADS
    }
    assert downloads == covered


def test_a_conditional_request_by_someone_else_gets_404_not_304(client: Any, stored: dict[str, Any]) -> None:
    """Does replaying the owner's ETag as another person reveal that the file exists (or is unchanged)?"""
    yamada = _bearer(api_token(client, "yamada"))
    tanaka = _bearer(api_token(client, "tanaka"))  # 企画財政課: not in 総務課, not on the draft
    for url in (
        f"/api/v1/attachments/{stored['chat']}",
        f"/api/v1/attachments/{stored['chat']}/thumbnail",
        f"/api/v1/documents/{stored['doc']}/file",
        f"/api/v1/approvals/{stored['request']}/attachments/{stored['attachment']}",
    ):
        mine = client.get(url, headers=yamada)
        assert mine.status_code == 200 and mine.headers["Cache-Control"] == "no-store"
        etag = mine.headers.get("ETag")
        if etag is None:
            continue
        again = client.get(url, headers={**yamada, "If-None-Match": etag})
        assert again.status_code in (200, 304)
        theirs = client.get(url, headers={**tanaka, "If-None-Match": etag, "Range": "bytes=0-3"})
        assert theirs.status_code == 404, (url, theirs.status_code)
        assert theirs.headers.get("ETag") is None and theirs.headers["Cache-Control"] == "no-store"


def test_static_assets_keep_their_own_caching_when_signed_in(client: Any, org: dict[str, Any]) -> None:
    """The rule is for private answers: a signed-in person's CSS is still cacheable."""
    assert login(client, "yamada").status_code == 302
    response = client.get("/static/css/app.css")
    assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")
