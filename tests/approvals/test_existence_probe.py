"""A request the caller may not see answers exactly like one that does not exist, on every door.

Before, POST /api/v1/approvals/<id>/actions answered 403 for an existing request of another 課 and
404 for a missing id, and the HTML form's message told the two apart as well.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.approvals import test_service_support as support
from tests.approvals.test_service_support import bearer
from tests.conftest import api_token, csrf_from, login

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys

MISSING = 987654


def _without_csrf(html: str) -> str:
    return re.sub(r'(csrf[-_]token"[^>]*(?:content|value)=")[^"]+', r"\1", html)


@pytest.fixture
def existing(client: Any, org: dict[str, Any]) -> int:
    """A submitted request of 総務課 (tanaka of 企画財政課 has no part in it)."""
    headers = bearer(api_token(client, "yamada"))
    body = {"route": "general", "title": "公用車の購入", "body": "本文", "amount": 300000, "submit": True}
    response = client.post("/api/v1/approvals", json=body, headers=headers)
    assert response.status_code == 201
    return response.get_json()["id"]


ACTIONS = ["approve", "send_back", "reject", "pull_back", "withdraw", "resubmit", "deputy_approve",
           "acknowledge", "pull_up", "read", "submit"]


@pytest.mark.parametrize("action", ACTIONS)
def test_api_action_on_someone_elses_request_is_a_plain_404(client: Any, existing: int, action: str) -> None:
    stranger = bearer(api_token(client, "tanaka"))
    body = {"action": action, "comment": "理由"}
    real = client.post(f"/api/v1/approvals/{existing}/actions", json=body, headers=stranger)
    missing = client.post(f"/api/v1/approvals/{MISSING}/actions", json=body, headers=stranger)
    assert real.status_code == missing.status_code == 404
    assert real.get_json() == missing.get_json()


def test_bulk_tells_nothing_either(client: Any, existing: int) -> None:
    stranger = bearer(api_token(client, "tanaka"))
    results = client.post(
        "/api/v1/approvals/bulk", json={"ids": [existing, MISSING]}, headers=stranger
    ).get_json()["results"]
    assert results[0]["error"] == results[1]["error"] and results[0]["error"]["code"] == "not_found"


def test_edit_and_attachment_doors_answer_404_for_both(client: Any, existing: int) -> None:
    stranger = bearer(api_token(client, "tanaka"))
    for request_id in (existing, MISSING):
        edit = client.patch(f"/api/v1/approvals/{request_id}", json={"title": "x"}, headers=stranger)
        assert edit.status_code == 404, request_id
        delete = client.delete(f"/api/v1/approvals/{request_id}", headers=stranger)
        assert delete.status_code == 404, request_id
        upload = client.post(
            f"/api/v1/approvals/{request_id}/attachments",
            data={"file": (__import__("io").BytesIO(b"%PDF-1.4\n"), "a.pdf")},
            headers=stranger,
        )
        assert upload.status_code == 404, request_id


@pytest.mark.parametrize("action", ["approve", "send_back", "reject", "withdraw"])
def test_html_form_on_someone_elses_request_is_a_plain_404(client: Any, existing: int, action: str) -> None:
    login(client, "tanaka")
    token = csrf_from(client.get("/approvals/").get_data(as_text=True))
    form = {"action": action, "comment": "理由", "csrf_token": token}
    real = client.post(f"/approvals/{existing}/act", data=form, follow_redirects=True)
    missing = client.post(f"/approvals/{MISSING}/act", data=form, follow_redirects=True)
    assert real.status_code == missing.status_code == 404
    # The pages are the same but for the CSRF token (signed with the current second).
    assert _without_csrf(real.get_data(as_text=True)) == _without_csrf(missing.get_data(as_text=True))
    assert "決裁ルートに含まれていない" not in real.get_data(as_text=True)
