"""The /api/v1 approval endpoints: exact shapes, status codes and Japanese error messages."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.approvals import test_service_support as support
from tests.approvals.test_service_support import GENERAL, bearer
from tests.conftest import api_token, csrf_from, login
from workspace import calendar

# Fixtures shared with the other approval test modules.
app_config = support.app_config
org = support.org
shared_keys = support.shared_keys


@pytest.fixture
def tokens(client: Any, org: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Bearer headers for everyone in the org."""
    return {name: bearer(api_token(client, name)) for name in ("yamada", "suzuki", "sato", "tanaka", "admin")}


def _create(client: Any, headers: dict[str, str], **extra: Any) -> Any:
    body = {
        "route": "general",
        "title": "公用車の購入",
        "body": "本文",
        "amount": 300000,
        "submit": True,
        **extra,
    }
    return client.post("/api/v1/approvals", json=body, headers=headers)


def test_routes_are_versioned_and_admin_only(client: Any, tokens: dict) -> None:
    """Does POST /approval-routes answer 201 {id, key, version}, bump the version, and refuse non-admins?"""
    response = client.post("/api/v1/approval-routes", json=GENERAL, headers=tokens["admin"])
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "key", "version"} and body["key"] == "general" and body["version"] == 2
    assert client.post("/api/v1/approval-routes", json=GENERAL, headers=tokens["yamada"]).status_code == 403
    listed = client.get("/api/v1/approval-routes", headers=tokens["yamada"]).get_json()["routes"]
    assert {(r["key"], r["version"]) for r in listed} == {("general", 2), ("consult", 1)}
    assert (
        client.get("/api/v1/approval-routes/general", headers=tokens["yamada"]).get_json()["definition"][
            "key"
        ]
        == "general"
    )


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ({**GENERAL, "steps": [{"kind": "review", "approver": {"boss": "x"}}]}, "steps[0].approver"),
        (
            {
                **GENERAL,
                "steps": [
                    {"kind": "review", "id": "a", "approver": {"title": "係長"}},
                    {"kind": "review", "id": "a", "approver": {"title": "課長"}},
                    GENERAL["steps"][1],
                ],
            },
            "steps[1].id",
        ),
        ({**GENERAL, "number_at": "sometime"}, "number_at"),
    ],
)
def test_bad_route_json_is_422_with_a_path(client: Any, tokens: dict, template: dict, path: str) -> None:
    """Is an unknown selector, a duplicated step id (a would-be cycle) or a bad field a 422 with its path?"""
    response = client.post("/api/v1/approval-routes", json=template, headers=tokens["admin"])
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["path"] == path and error["code"] == "invalid_route" and error["message"]


def test_create_returns_the_exact_shape(client: Any, tokens: dict) -> None:
    """Does POST /approvals answer 201 with id, status, document_number and the steps?"""
    response = _create(client, tokens["yamada"])
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "in_progress" and body["document_number"] is None and isinstance(body["id"], int)
    step = body["steps"][0]
    assert {"index", "kind", "approvers", "status"} <= set(step)
    assert step["approvers"][0]["username"] == "suzuki" and step["approvers"][0]["status"] == "pending"
    assert body["steps"][1]["kind"] == "decide" and body["steps"][1]["approvers"][0]["username"] == "sato"
    assert body["created_at"].endswith("+09:00")


@pytest.mark.parametrize(
    ("extra", "message_part"),
    [
        ({"route": "nope"}, "登録されていません"),
        ({"amount": -5}, "負"),
        ({"title": " "}, "件名"),
        ({"amount": 10**15}, "大きすぎ"),
    ],
)
def test_bad_request_input_is_a_japanese_4xx(
    client: Any, tokens: dict, extra: dict, message_part: str
) -> None:
    """Are an unknown route, a negative or absurd amount and a missing title clear 422s?"""
    response = _create(client, tokens["yamada"], **extra)
    assert response.status_code == 422
    assert message_part in response.get_json()["error"]["message"]
    assert (
        client.get("/api/v1/approvals/inbox", headers=tokens["yamada"]).get_json()["counts"]["in_progress"]
        == 0
    )


def test_not_json_is_400(client: Any, tokens: dict) -> None:
    """Is a body that is not a JSON object a 400?"""
    response = client.post("/api/v1/approvals", data="x", headers=tokens["yamada"])
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


def test_actions_404_403_409_422(client: Any, tokens: dict) -> None:
    """Do actions answer 200, 404 for strangers, 403 for a viewer with no turn, 409 with the current
    state, and 422 for nonsense?"""
    request_id = _create(client, tokens["yamada"]).get_json()["id"]
    url = f"/api/v1/approvals/{request_id}/actions"
    assert client.post(url, json={"action": "approve"}, headers=tokens["tanaka"]).status_code == 404
    assert client.post(url, json={"action": "approve"}, headers=tokens["admin"]).status_code == 403
    early = client.post(url, json={"action": "approve"}, headers=tokens["sato"])
    assert early.status_code == 409 and "順番" in early.get_json()["error"]["message"]
    ok = client.post(url, json={"action": "approve", "comment": "了"}, headers=tokens["suzuki"])
    assert ok.status_code == 200 and ok.get_json()["steps"][0]["approvers"][0]["status"] == "approved"
    again = client.post(url, json={"action": "approve"}, headers=tokens["suzuki"])
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert error["code"] == "conflict" and error["request"]["status"] == "in_progress"
    assert error["request"]["steps"][1]["status"] == "pending"
    assert client.post(url, json={"action": "dance"}, headers=tokens["sato"]).status_code == 422
    assert (
        client.post(url, json={"action": "send_back", "to_step": 5}, headers=tokens["sato"]).status_code
        == 422
    )
    decided = client.post(url, json={"action": "approve"}, headers=tokens["sato"]).get_json()
    assert decided["status"] == "approved" and decided["document_number"] == "榛総第1号"
    finished = client.post(url, json={"action": "withdraw"}, headers=tokens["yamada"])
    assert finished.status_code == 409 and finished.get_json()["error"]["request"]["status"] == "approved"


def test_visibility_on_read(client: Any, tokens: dict) -> None:
    """Do the drafter, route members and admins see a request, and a stranger get 404?"""
    request_id = _create(client, tokens["yamada"]).get_json()["id"]
    for name in ("yamada", "suzuki", "sato", "admin"):
        assert client.get(f"/api/v1/approvals/{request_id}", headers=tokens[name]).status_code == 200
    assert client.get(f"/api/v1/approvals/{request_id}", headers=tokens["tanaka"]).status_code == 404
    assert client.get("/api/v1/approvals/424242", headers=tokens["yamada"]).status_code == 404
    mine = client.get(f"/api/v1/approvals/{request_id}", headers=tokens["suzuki"]).get_json()
    assert mine["allowed_actions"] == ["approve", "reject", "send_back"]


def test_draft_then_submit_endpoint(client: Any, tokens: dict) -> None:
    """Can a draft be edited and then submitted through /submit, and not twice?"""
    created = _create(client, tokens["yamada"], submit=False).get_json()
    assert created["status"] == "draft" and created["preview"] is True
    patched = client.patch(
        f"/api/v1/approvals/{created['id']}", json={"title": "修正後"}, headers=tokens["yamada"]
    )
    assert patched.status_code == 200 and patched.get_json()["title"] == "修正後"
    assert (
        client.post(f"/api/v1/approvals/{created['id']}/submit", headers=tokens["suzuki"]).status_code == 404
    )
    submitted = client.post(f"/api/v1/approvals/{created['id']}/submit", headers=tokens["yamada"])
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "in_progress"
    assert (
        client.post(f"/api/v1/approvals/{created['id']}/submit", headers=tokens["yamada"]).status_code == 409
    )


def test_inbox_lists(client: Any, tokens: dict) -> None:
    """Does the inbox answer pending / in_progress / post_review / done with counts?"""
    request_id = _create(client, tokens["yamada"]).get_json()["id"]
    box = client.get("/api/v1/approvals/inbox", headers=tokens["suzuki"]).get_json()
    assert {"pending", "in_progress", "post_review", "done"} <= set(box)
    assert [i["id"] for i in box["pending"]] == [request_id] and box["pending"][0]["title"] == "公用車の購入"
    client.post(
        f"/api/v1/approvals/{request_id}/actions", json={"action": "approve"}, headers=tokens["suzuki"]
    )
    box = client.get("/api/v1/approvals/inbox", headers=tokens["suzuki"]).get_json()
    assert box["pending"] == [] and [i["id"] for i in box["done"]] == [request_id]
    assert client.get("/api/v1/approvals/inbox?limit=x", headers=tokens["suzuki"]).status_code == 400


def test_bulk_endpoint(client: Any, tokens: dict) -> None:
    """Does bulk approve answer a result per item?"""
    ids = [_create(client, tokens["yamada"]).get_json()["id"] for _ in range(3)]
    response = client.post("/api/v1/approvals/bulk", json={"ids": [*ids, 99999]}, headers=tokens["suzuki"])
    results = response.get_json()["results"]
    assert [r["ok"] for r in results] == [True, True, True, False]
    assert (
        client.post("/api/v1/approvals/bulk", json={"ids": "all"}, headers=tokens["suzuki"]).status_code
        == 422
    )


def test_absence_endpoints_and_deputy_decision(client: Any, tokens: dict) -> None:
    """Can a 課長 register an absence, and his deputy decide (代決) through the API?"""
    today = calendar.today().isoformat()
    made = client.post(
        "/api/v1/approvals/absences",
        json={"deputy": "tanaka", "from": today, "until": today},
        headers=tokens["sato"],
    )
    assert made.status_code == 201 and made.get_json()["deputy"] == "tanaka"
    request_id = _create(client, tokens["yamada"]).get_json()["id"]
    url = f"/api/v1/approvals/{request_id}/actions"
    client.post(url, json={"action": "approve"}, headers=tokens["suzuki"])
    box = client.get("/api/v1/approvals/inbox", headers=tokens["tanaka"]).get_json()
    assert box["pending"][0]["on_behalf_of"] == "sato"
    decided = client.post(url, json={"action": "deputy_approve"}, headers=tokens["tanaka"]).get_json()
    assert (
        decided["status"] == "approved" and decided["steps"][1]["approvers"][0]["status"] == "deputy_approved"
    )
    listed = client.get("/api/v1/approvals/absences", headers=tokens["tanaka"]).get_json()["absences"]
    assert [a["user"] for a in listed] == ["sato"]
    assert (
        client.delete(f"/api/v1/approvals/absences/{listed[0]['id']}", headers=tokens["tanaka"]).status_code
        == 404
    )
    assert (
        client.delete(f"/api/v1/approvals/absences/{listed[0]['id']}", headers=tokens["sato"]).status_code
        == 204
    )
    bad = client.post(
        "/api/v1/approvals/absences",
        json={"deputy": "ghost", "from": today, "until": today},
        headers=tokens["sato"],
    )
    assert bad.status_code == 422


def test_pdf_draft_and_signed_record(client: Any, tokens: dict, app: Any, tmp_path: Any) -> None:
    """Is an open request a watermarked draft PDF, and an approved one the signed, verifiable record?"""
    from approvals import signing

    request_id = _create(client, tokens["yamada"]).get_json()["id"]
    draft = client.get(f"/api/v1/approvals/{request_id}/pdf", headers=tokens["yamada"])
    assert draft.status_code == 200 and draft.mimetype == "application/pdf"
    assert not signing.verify_pdf(draft.data, app.config["APPROVALS_KEY_DIR"]).valid
    url = f"/api/v1/approvals/{request_id}/actions"
    client.post(url, json={"action": "approve"}, headers=tokens["suzuki"])
    client.post(url, json={"action": "approve"}, headers=tokens["sato"])
    signed = client.get(f"/api/v1/approvals/{request_id}/pdf", headers=tokens["yamada"])
    result = signing.verify_pdf(signed.data, app.config["APPROVALS_KEY_DIR"])
    assert result.valid and result.request_id == request_id and result.document_number == "榛総第1号"
    assert client.get(f"/api/v1/approvals/{request_id}/pdf", headers=tokens["yamada"]).data == signed.data
    assert client.get(f"/api/v1/approvals/{request_id}/pdf", headers=tokens["tanaka"]).status_code == 404
    path = tmp_path / "record.pdf"
    path.write_bytes(signed.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "公用車の購入" in text and "榛総第1号" in text


def test_session_writes_need_the_csrf_header(client: Any, org: dict) -> None:
    """Does a browser session without X-CSRFToken get 400, and with it 201?"""
    login(client, "yamada")
    body = {"route": "general", "title": "画面から", "submit": False}
    assert client.post("/api/v1/approvals", json=body).status_code == 400
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/api/v1/approvals", json=body, headers={"X-CSRFToken": token}).status_code == 201
