"""廃棄 through a 決裁: records staff propose expired documents; the decision disposes of them (or not)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from approvals.models import ApprovalRequest
from docsearch import disposal_approval, files
from docsearch.models import DisposalProposal, DisposalRecord, Document
from tests.approvals import test_service_support as support
from tests.conftest import PASSWORD, api_token, csrf_from, login
from tests.docsearch.conftest import auth, search, upload
from workspace import db, directory
from workspace.models import AuditEntry

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys

PROPOSALS = "/api/v1/retention/disposal-proposals"


@pytest.fixture
def tok(client: Any, org: dict[str, Any], people: dict[str, Any]) -> dict[str, str]:
    """Tokens for the records clerk (企画財政課), its 係長 and 課長 (the route), and a member of staff."""
    directory.add_local_user("kakari", "係田 四郎", PASSWORD, department_code="02", title="係長")
    db.session().commit()
    return {name: api_token(client, name) for name in ("kiroku", "kakari", "kikaku", "yamada")}


def _old(client: Any, token: str, text: str) -> dict[str, Any]:
    response = upload(
        client, token, text.encode(), "old.txt", title=text, fiscal_year=2015, retention_years=1
    )
    assert response.status_code == 201
    return response.get_json()  # expired on 2017-03-31


def _status(doc_id: int) -> str:
    db.session().commit()
    db.session().expire_all()
    return db.session().get(Document, doc_id).status


def _count(model: Any) -> int:
    db.session().commit()
    return db.session().execute(select(func.count()).select_from(model)).scalar_one()


def _decide(client: Any, tok: dict[str, str], request_id: int, action: str) -> dict[str, Any]:
    """The 係長 approves, then the 課長 takes the deciding action."""
    _act(client, tok["kakari"], request_id, "approve")
    return _act(client, tok["kikaku"], request_id, action)


def _act(client: Any, token: str, request_id: int, action: str) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/approvals/{request_id}/actions", json={"action": action}, headers=auth(token)
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_approved_proposal_disposes_of_the_documents_with_a_record_naming_the_decision(
    client: Any, tok: dict[str, str]
) -> None:
    """Does an approved 廃棄 決裁 dispose of each listed document, its file and its index entry"""
    first, second = _old(client, tok["kiroku"], "旧庁舎配置図"), _old(client, tok["kiroku"], "旧防災計画")
    created = client.post(
        PROPOSALS,
        json={"document_ids": [first["id"], second["id"]], "reason": "保存期間満了のため"},
        headers=auth(tok["kiroku"]),
    )
    assert created.status_code == 201, created.get_json()
    proposal = created.get_json()
    assert proposal["status"] == "pending" and proposal["document_ids"] == [first["id"], second["id"]]
    request = client.get(
        f"/api/v1/approvals/{proposal['request_id']}", headers=auth(tok["kiroku"])
    ).get_json()
    assert request["status"] == "in_progress"
    assert request["title"] == "文書の廃棄について（2件）"
    assert "旧庁舎配置図" in request["body"] and "旧防災計画" in request["body"]
    # Nothing is disposed while the request is on its route.
    assert _status(first["id"]) == "active"
    assert search(client, tok["kiroku"], q="旧庁舎配置図", type="document").get_json()["total"] == 1

    decided = _decide(client, tok, proposal["request_id"], "approve")
    assert decided["status"] == "approved"

    assert _status(first["id"]) == "disposed"
    assert client.get(f"/api/v1/documents/{first['id']}", headers=auth(tok["yamada"])).status_code == 404
    # The only hit left is the filed 決裁 itself, whose text lists what was disposed of.
    hits = search(client, tok["kiroku"], q="旧庁舎配置図", type="document").get_json()["results"]
    assert [h["title"] for h in hits] == ["文書の廃棄について（2件）"]
    assert not files.path_for(first["sha256"]).exists()
    records = {r.document_id: r for r in db.session().execute(select(DisposalRecord)).scalars()}
    assert set(records) == {first["id"], second["id"]}
    assert records[first["id"]].actor == "kiroku"
    assert decided["document_number"] in records[first["id"]].reason
    listed = client.get(PROPOSALS, headers=auth(tok["kiroku"])).get_json()["proposals"]
    assert listed[0]["status"] == "disposed"
    assert listed[0]["outcome"] == {str(first["id"]): "disposed", str(second["id"]): "disposed"}
    actions = set(db.session().execute(select(AuditEntry.action)).scalars())
    assert {"document.dispose_proposed", "document.dispose_decided", "document.dispose"} <= actions


def test_rejected_proposal_disposes_of_nothing(client: Any, tok: dict[str, str]) -> None:
    """Does a rejected 廃棄 決裁 leave the documents as they were, and free them for a new proposal"""
    doc = _old(client, tok["kiroku"], "旧職員名簿")
    proposal = client.post(
        PROPOSALS, json={"document_ids": [doc["id"]], "reason": "満了"}, headers=auth(tok["kiroku"])
    ).get_json()
    assert _decide(client, tok, proposal["request_id"], "reject")["status"] == "rejected"
    assert _status(doc["id"]) == "active"
    assert _count(DisposalRecord) == 0
    assert (
        client.get(PROPOSALS, headers=auth(tok["kiroku"])).get_json()["proposals"][0]["status"] == "rejected"
    )
    again = client.post(
        PROPOSALS, json={"document_ids": [doc["id"]], "reason": "再起案"}, headers=auth(tok["kiroku"])
    )
    assert again.status_code == 201


def test_a_document_extended_meanwhile_is_kept(client: Any, tok: dict[str, str]) -> None:
    """Is a document whose retention was extended after the proposal kept when the 決裁 is approved"""
    kept, gone = _old(client, tok["kiroku"], "延長した文書"), _old(client, tok["kiroku"], "廃棄する文書")
    proposal = client.post(
        PROPOSALS,
        json={"document_ids": [kept["id"], gone["id"]], "reason": "満了"},
        headers=auth(tok["kiroku"]),
    ).get_json()
    extended = client.post(
        f"/api/v1/documents/{kept['id']}/extend",
        json={"reason": "訴訟のため", "retention_until": "2099-03-31"},
        headers=auth(tok["kiroku"]),
    )
    assert extended.status_code == 200
    _decide(client, tok, proposal["request_id"], "approve")
    outcome = client.get(PROPOSALS, headers=auth(tok["kiroku"])).get_json()["proposals"][0]["outcome"]
    assert outcome == {str(kept["id"]): "extended", str(gone["id"]): "disposed"}
    assert _status(kept["id"]) == "active"


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        ("yamada", {"reason": "満了"}, 403, None),
        ("kiroku", {"reason": ""}, 422, None),
        ("kiroku", {"reason": "満了", "document_ids": []}, 422, None),
        ("kiroku", {"reason": "満了", "document_ids": ["x"]}, 422, None),
        ("kiroku", {"reason": "満了", "document_ids": [999999]}, 404, "not_found"),
        ("kiroku", {"reason": "満了", "fresh": True}, 409, "not_expired"),
    ],
)
def test_bad_proposals_are_refused_and_write_nothing(
    client: Any, tok: dict[str, str], who: str, body: dict[str, Any], status: int, code: str | None
) -> None:
    """Are bad proposals refused with a clear status, leaving no request and no proposal behind"""
    old = _old(client, tok["kiroku"], "満了文書")
    fresh = upload(client, tok["kiroku"], b"new", "new.txt", fiscal_year=2026, retention_years=5).get_json()
    payload = {"document_ids": [fresh["id"] if body.pop("fresh", False) else old["id"]], **body}
    response = client.post(PROPOSALS, json=payload, headers=auth(tok[who]))
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code
    assert _count(DisposalProposal) == 0
    assert _count(ApprovalRequest) == 0


def test_a_document_cannot_be_in_two_pending_proposals(client: Any, tok: dict[str, str]) -> None:
    """Is a second proposal naming a document already under decision refused"""
    doc = _old(client, tok["kiroku"], "二重起案")
    first = client.post(
        PROPOSALS, json={"document_ids": [doc["id"]], "reason": "満了"}, headers=auth(tok["kiroku"])
    )
    assert first.status_code == 201
    second = client.post(
        PROPOSALS, json={"document_ids": [doc["id"]], "reason": "満了"}, headers=auth(tok["kiroku"])
    )
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "already_proposed"
    assert _count(ApprovalRequest) == 1


def test_unresolvable_route_writes_nothing(client: Any, tok: dict[str, str], org: dict[str, Any]) -> None:
    """When the route has no decider (no 課長), is the proposal refused in Japanese and nothing written"""
    doc = _old(client, tok["kiroku"], "決裁者不在")
    db.session().get(type(org["kikaku"]), org["kikaku"].id).active = False
    db.session().commit()
    response = client.post(
        PROPOSALS, json={"document_ids": [doc["id"]], "reason": "満了"}, headers=auth(tok["kiroku"])
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "approval_refused"
    assert _count(DisposalProposal) == 0 and _count(ApprovalRequest) == 0


def test_a_lost_settlement_is_repaired_by_the_command(
    app: Any, client: Any, tok: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If settling fails after the decision, does `workspace disposals settle` dispose later, once"""
    doc = _old(client, tok["kiroku"], "後で廃棄")
    proposal = client.post(
        PROPOSALS, json={"document_ids": [doc["id"]], "reason": "満了"}, headers=auth(tok["kiroku"])
    ).get_json()
    real = disposal_approval.settle

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the process died here")

    monkeypatch.setattr(disposal_approval, "settle", crash)
    assert _decide(client, tok, proposal["request_id"], "approve")["status"] == "approved"
    assert _status(doc["id"]) == "active"
    monkeypatch.setattr(disposal_approval, "settle", real)

    result = app.test_cli_runner().invoke(args=["disposals", "settle"])
    assert result.exit_code == 0 and "settled 1 proposals" in result.output
    assert _status(doc["id"]) == "disposed"
    again = app.test_cli_runner().invoke(args=["disposals", "settle"])
    assert "settled 0 proposals" in again.output
    assert _count(DisposalRecord) == 1


def test_the_expired_list_page_drafts_the_decision(client: Any, tok: dict[str, str]) -> None:
    """Can records staff tick documents on the 満了 page and draft the 廃棄 決裁 from there"""
    doc = _old(client, tok["kiroku"], "画面から起案")
    login(client, "kiroku")
    page = client.get("/documents/retention")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'form="propose-form"' in html and "廃棄の決裁を起案" in html
    response = client.post(
        "/documents/retention/propose",
        data={"csrf_token": csrf_from(html), "document_id": [str(doc["id"])], "reason": "保存期間満了のため"},
        follow_redirects=True,
    )
    done = response.get_data(as_text=True)
    assert "廃棄の決裁を起案しました（1件）" in done
    assert "決裁中" in done
    assert _count(DisposalProposal) == 1
    empty = client.post(
        "/documents/retention/propose",
        data={"csrf_token": csrf_from(html), "reason": "理由"},
        follow_redirects=True,
    )
    assert "廃棄する文書を1件以上選んでください。" in empty.get_data(as_text=True)
