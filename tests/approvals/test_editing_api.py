"""Editing, deleting and copying requests over /api/v1, and the versions kept per submission."""

from __future__ import annotations

import io
from typing import Any

import pytest

from approvals import route_store
from tests.approvals import test_service_support as support
from tests.approvals.test_service_support import bearer
from tests.conftest import api_token
from workspace import db

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys


@pytest.fixture
def tokens(client: Any, org: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Bearer headers for everyone in the org."""
    return {name: bearer(api_token(client, name)) for name in ("yamada", "suzuki", "sato", "tanaka", "admin")}


def _draft(client: Any, headers: dict[str, str], submit: bool = False, **extra: Any) -> dict[str, Any]:
    body = {"route": "general", "title": "公用車の購入", "body": "一行目\n二行目", "amount": 300000}
    response = client.post("/api/v1/approvals", json={**body, **extra, "submit": submit}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _act(client: Any, headers: dict[str, str], rid: int, action: str, **extra: Any) -> Any:
    return client.post(f"/api/v1/approvals/{rid}/actions", json={"action": action, **extra}, headers=headers)


def _sent_back(client: Any, tokens: dict) -> dict[str, Any]:
    r = _draft(client, tokens["yamada"], submit=True)
    assert _act(client, tokens["suzuki"], r["id"], "approve").status_code == 200
    response = _act(client, tokens["sato"], r["id"], "send_back", comment="金額の根拠を添付してください")
    assert response.status_code == 200
    return response.get_json()


def test_patch_edits_a_draft_and_returns_the_request(client: Any, tokens: dict) -> None:
    """Does PATCH change a draft's fields and answer 200 with the request JSON?"""
    r = _draft(client, tokens["yamada"])
    response = client.patch(
        f"/api/v1/approvals/{r['id']}",
        json={"title": "公用車の購入（修正）", "amount": 250000, "retention_years": 10},
        headers=tokens["yamada"],
    )
    assert response.status_code == 200
    data = response.get_json()
    assert (data["title"], data["amount"], data["retention_years"]) == ("公用車の購入（修正）", 250000, 10)
    assert data["status"] == "draft" and data["versions"] == [] and data["send_back_reason"] is None


def test_patch_after_send_back_is_allowed_and_shows_the_reason(client: Any, tokens: dict) -> None:
    """May the drafter correct a sent-back request, and does the JSON carry the 差戻し reason?"""
    r = _sent_back(client, tokens)
    assert r["send_back_reason"] == "金額の根拠を添付してください"
    response = client.patch(
        f"/api/v1/approvals/{r['id']}", json={"body": "一行目\n二行目（修正）"}, headers=tokens["yamada"]
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["body"] == "一行目\n二行目（修正）"


def test_patch_while_in_progress_is_409_with_the_current_state(client: Any, tokens: dict) -> None:
    """Does PATCH of a request under review answer 409 with the request's current state?"""
    r = _draft(client, tokens["yamada"], submit=True)
    response = client.patch(f"/api/v1/approvals/{r['id']}", json={"title": "x"}, headers=tokens["yamada"])
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "conflict" and "変更できません" in error["message"]
    assert error["request"]["status"] == "in_progress" and error["request"]["title"] == "公用車の購入"
    assert [v["n"] for v in error["request"]["versions"]] == [1]  # the current state, versions and all


def test_patch_after_send_back_is_the_drafters_alone(client: Any, tokens: dict) -> None:
    """May only the drafter correct a sent-back request: 200 for him, 403 for an approver, 404 for an
    outsider?"""
    r = _sent_back(client, tokens)
    assert (
        client.patch(f"/api/v1/approvals/{r['id']}", json={"title": "x"}, headers=tokens["sato"]).status_code
        == 403
    )
    assert (
        client.patch(
            f"/api/v1/approvals/{r['id']}", json={"title": "x"}, headers=tokens["tanaka"]
        ).status_code
        == 404
    )
    mine = client.patch(
        f"/api/v1/approvals/{r['id']}", json={"title": "公用車の購入（再）"}, headers=tokens["yamada"]
    )
    assert mine.status_code == 200 and mine.get_json()["title"] == "公用車の購入（再）"


def test_patch_after_send_back_refuses_an_amount_that_changes_the_decider(client: Any, tokens: dict) -> None:
    """Is an amount that moves the decision from 課長専決 to 副村長 refused after a 差戻し (422)?"""
    r = _sent_back(client, tokens)
    response = client.patch(f"/api/v1/approvals/{r['id']}", json={"amount": 900000}, headers=tokens["yamada"])
    assert response.status_code == 422 and "決裁区分" in response.get_json()["error"]["message"]
    ok = client.patch(f"/api/v1/approvals/{r['id']}", json={"amount": 400000}, headers=tokens["yamada"])
    assert ok.status_code == 200 and ok.get_json()["amount"] == 400000


def test_delete_a_draft_is_204_and_others_are_409(client: Any, tokens: dict) -> None:
    """Does DELETE remove a draft (204, then 404) and refuse a submitted request (409)?"""
    r = _draft(client, tokens["yamada"])
    assert client.delete(f"/api/v1/approvals/{r['id']}", headers=tokens["suzuki"]).status_code == 404
    assert client.delete(f"/api/v1/approvals/{r['id']}", headers=tokens["yamada"]).status_code == 204
    assert client.get(f"/api/v1/approvals/{r['id']}", headers=tokens["yamada"]).status_code == 404
    submitted = _draft(client, tokens["yamada"], submit=True)
    response = client.delete(f"/api/v1/approvals/{submitted['id']}", headers=tokens["yamada"])
    assert response.status_code == 409 and response.get_json()["error"]["request"]["status"] == "in_progress"


def test_versions_are_kept_one_per_submission(client: Any, tokens: dict) -> None:
    """Does each 起案 and 再提出 add a version with what was submitted, the earlier ones unchanged?"""
    r = _sent_back(client, tokens)
    assert [v["n"] for v in r["versions"]] == [1]
    client.patch(f"/api/v1/approvals/{r['id']}", json={"body": "改訂本文"}, headers=tokens["yamada"])
    upload = {"file": (io.BytesIO(b"a,b\n1,2\n"), "根拠.csv")}
    assert (
        client.post(
            f"/api/v1/approvals/{r['id']}/attachments",
            data=upload,
            headers=tokens["yamada"],
            content_type="multipart/form-data",
        ).status_code
        == 201
    )
    data = _act(client, tokens["yamada"], r["id"], "resubmit").get_json()
    v1, v2 = data["versions"]
    assert set(v1) == {"n", "submitted_at", "title", "body", "amount", "attachments"}
    assert (v1["n"], v1["body"], v1["attachments"]) == (1, "一行目\n二行目", [])
    assert (v2["n"], v2["body"]) == (2, "改訂本文")
    assert [a["name"] for a in v2["attachments"]] == ["根拠.csv"]
    assert v2["submitted_at"].endswith("+09:00") and data["send_back_reason"] is None


def test_copy_makes_a_new_draft_for_anyone_who_may_see_the_original(client: Any, tokens: dict) -> None:
    """Does POST /copy answer 201 with the caller's new draft carrying title, body, route and amount?"""
    r = _draft(client, tokens["yamada"], submit=True, classification="財産管理", retention_years=10)
    response = client.post(f"/api/v1/approvals/{r['id']}/copy", json={}, headers=tokens["suzuki"])
    assert response.status_code == 201
    copy = response.get_json()
    assert copy["id"] != r["id"] and copy["status"] == "draft" and copy["drafter"]["username"] == "suzuki"
    assert (copy["title"], copy["body"], copy["amount"], copy["route"]["key"]) == (
        "公用車の購入",
        "一行目\n二行目",
        300000,
        "general",
    )
    assert (copy["classification"], copy["retention_years"]) == ("財産管理", 10)
    assert client.post(f"/api/v1/approvals/{r['id']}/copy", headers=tokens["tanaka"]).status_code == 404
    bad = client.post(
        f"/api/v1/approvals/{r['id']}/copy", json={"attachments": "yes"}, headers=tokens["suzuki"]
    )
    assert bad.status_code == 422


def test_copy_takes_the_attachments_only_when_asked(client: Any, tokens: dict) -> None:
    """Are the original's attachments copied with {"attachments": true}, and only then?"""
    r = _draft(client, tokens["yamada"])
    client.post(
        f"/api/v1/approvals/{r['id']}/attachments",
        data={"file": (io.BytesIO(b"x,y\n"), "見積書.csv")},
        headers=tokens["yamada"],
        content_type="multipart/form-data",
    )
    plain = client.post(f"/api/v1/approvals/{r['id']}/copy", headers=tokens["yamada"]).get_json()
    assert plain["attachments"] == []
    full = client.post(
        f"/api/v1/approvals/{r['id']}/copy", json={"attachments": True}, headers=tokens["yamada"]
    ).get_json()
    assert [a["name"] for a in full["attachments"]] == ["見積書.csv"]
    # Deleting the first draft leaves the copy's bytes in place (the store is shared by content).
    assert client.delete(f"/api/v1/approvals/{r['id']}", headers=tokens["yamada"]).status_code == 204
    aid = full["attachments"][0]["id"]
    download = client.get(f"/api/v1/approvals/{full['id']}/attachments/{aid}", headers=tokens["yamada"])
    assert download.status_code == 200 and download.data == b"x,y\n"


CHOOSE = {
    "key": "choose",
    "name": "合議先を選ぶ文書",
    "steps": [
        {"kind": "review", "approver": {"relation": "section_chief"}},
        {
            "kind": "consult",
            "mode": "all",
            "choose": True,
            "approvers": [{"department": "02", "title": "課長"}, {"department": "01", "title": "課長"}],
        },
        {"kind": "decide", "authority": [{"approver": {"title": "村長"}}]},
    ],
}


def test_a_route_may_let_the_drafter_choose_consult_departments(client: Any, tokens: dict, org: dict) -> None:
    """Does a ``choose`` 合議 step consult only the chosen 課, and vanish when none is chosen?"""
    route_store.save(CHOOSE, org["admin"])
    db.session().commit()
    chosen = _draft(client, tokens["yamada"], route="choose", consult_departments={"1": ["02"]})
    kinds = [s["kind"] for s in chosen["steps"]]
    assert kinds == ["review", "consult", "decide"]
    assert [a["username"] for a in chosen["steps"][1]["approvers"]] == ["kikaku"]
    assert chosen["consult_departments"] == {"1": ["02"]}
    none = _draft(client, tokens["yamada"], route="choose")
    assert [s["kind"] for s in none["steps"]] == ["review", "decide"]
    bad = client.post(
        "/api/v1/approvals",
        json={"route": "choose", "title": "x", "consult_departments": {"1": ["99"]}},
        headers=tokens["yamada"],
    )
    assert bad.status_code == 422 and "99" in bad.get_json()["error"]["message"]
