"""One search box for everything: chat messages and approval requests in GET /api/v1/search.

Permission trimming through the API: a non-member never sees a message's hit, count, facet or
snippet; an outsider never sees an approval; membership and 代理者 changes count at once.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsearch import indexer
from tests.approvals import test_service_support as support
from tests.conftest import api_token
from tests.docsearch.conftest import auth, search, upload
from workspace import calendar

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys

SECRET_WORD = "予算"


@pytest.fixture
def tok(client: Any, org: dict[str, Any], people: dict[str, Any]) -> dict[str, str]:
    """A bearer token for everyone in the org, records clerk included."""
    return {
        name: api_token(client, name) for name in ("yamada", "suzuki", "sato", "tanaka", "admin", "kiroku")
    }


def _private_channel(client: Any, token: str, name: str, members: list[str]) -> int:
    response = client.post(
        "/api/v1/channels", json={"name": name, "kind": "private", "members": members}, headers=auth(token)
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _post(client: Any, token: str, channel_id: int, body: str) -> int:
    response = client.post(
        f"/api/v1/channels/{channel_id}/messages", json={"body": body}, headers=auth(token)
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _found(client: Any, token: str, q: str, **params: Any) -> dict[str, Any]:
    response = search(client, token, q=q, **params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _nothing_of(body: dict[str, Any], kind: str, text: str) -> None:
    """Assert no hit, count, facet or snippet of kind leaks."""
    assert all(r["type"] != kind for r in body["results"])
    assert kind not in body["facets"]["type"]
    assert text not in str(body)


def test_message_is_found_by_members_only(client: Any, tok: dict[str, str]) -> None:
    """Does a member find a chat message (typed, snippet marked) while a non-member sees no trace of it?"""
    channel = _private_channel(client, tok["yamada"], "予算検討", ["suzuki"])
    message = _post(client, tok["yamada"], channel, "来年度の予算要求は十二月十日までに提出")
    mine = _found(client, tok["suzuki"], SECRET_WORD, type="message")
    assert mine["total"] == 1 and mine["facets"]["type"] == {"message": 1}
    hit = mine["results"][0]
    assert hit["type"] == "message" and hit["id"] == message and hit["channel_id"] == channel
    assert "<mark>" in hit["snippet"] and "十二月十日" in hit["snippet"]
    assert hit["title"] == "#予算検討・山田 太郎" and hit["url"].startswith(f"/chat/?channel={channel}")
    for outsider in ("tanaka", "sato", "admin", "kiroku"):  # sato: same 課; admin and records: no exemption
        for params in ({"type": "message"}, {}):
            body = _found(client, tok[outsider], SECRET_WORD, **params)
            _nothing_of(body, "message", "十二月十日")
            assert body["total"] == 0


def test_membership_changes_count_at_once(client: Any, tok: dict[str, str]) -> None:
    """Does a person invited to a channel find its messages at once, and lose them on leaving?"""
    channel = _private_channel(client, tok["yamada"], "庁舎", ["suzuki"])
    _post(client, tok["yamada"], channel, "庁舎の予算について")
    assert _found(client, tok["tanaka"], SECRET_WORD)["total"] == 0
    invited = client.post(
        f"/api/v1/channels/{channel}/members", json={"members": ["tanaka"]}, headers=auth(tok["yamada"])
    )
    assert invited.status_code in (200, 201), invited.get_json()
    assert _found(client, tok["tanaka"], SECRET_WORD)["facets"]["type"] == {"message": 1}
    assert client.post(f"/api/v1/channels/{channel}/leave", headers=auth(tok["tanaka"])).status_code in (
        200,
        204,
    )
    _nothing_of(_found(client, tok["tanaka"], SECRET_WORD), "message", "庁舎の予算")


def test_edited_message_is_reindexed_and_deleted_one_leaves(client: Any, tok: dict[str, str]) -> None:
    """Is an edited message found by its new text only, and a deleted one not at all (nor in the index)?"""
    channel = _private_channel(client, tok["yamada"], "連絡", ["suzuki"])
    message = _post(client, tok["yamada"], channel, "予算の締切は金曜です")
    edited = client.patch(
        f"/api/v1/messages/{message}", json={"body": "会議室の予約は金曜です"}, headers=auth(tok["yamada"])
    )
    assert edited.status_code == 200, edited.get_json()
    assert _found(client, tok["suzuki"], SECRET_WORD)["total"] == 0
    assert [r["id"] for r in _found(client, tok["suzuki"], "会議室")["results"]] == [message]
    assert client.delete(f"/api/v1/messages/{message}", headers=auth(tok["yamada"])).status_code in (200, 204)
    assert _found(client, tok["suzuki"], "会議室")["total"] == 0
    assert _found(client, tok["yamada"], "会議室")["total"] == 0
    assert indexer.pending() == 0
    assert indexer.get_index().searcher().document(key=f"message:{message}") is None


def _request(client: Any, token: str, title: str, body: str) -> int:
    response = client.post(
        "/api/v1/approvals",
        json={"route": "general", "title": title, "body": body, "amount": 300000, "submit": True},
        headers=auth(token),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_approval_is_found_by_who_may_see_it_only(client: Any, tok: dict[str, str]) -> None:
    """Do the drafter, the route and admins find a request, and an outsider or records clerk see nothing?"""
    request_id = _request(client, tok["yamada"], "公用車の購入", "予算の範囲内で軽自動車を一台購入する")
    for who in ("yamada", "suzuki", "sato", "admin"):
        body = _found(client, tok[who], "公用車", type="approval")
        assert [(r["type"], r["id"]) for r in body["results"]] == [("approval", request_id)], who
        assert body["results"][0]["url"] == f"/approvals/{request_id}"
        assert body["results"][0]["status"] == "in_progress"
    by_body = _found(client, tok["suzuki"], "軽自動車")["results"][0]
    assert "<mark>" in by_body["snippet"]
    for outsider in ("tanaka", "kiroku"):
        for params in ({"type": "approval"}, {}):
            body = _found(client, tok[outsider], "公用車", **params)
            assert body["total"] == 0
            _nothing_of(body, "approval", "軽自動車")
        assert client.get(f"/api/v1/approvals/{request_id}", headers=auth(tok[outsider])).status_code == 404


def test_deputy_finds_the_absent_approvers_requests_while_absent(client: Any, tok: dict[str, str]) -> None:
    """Does today's 代理者 of an absent approver find the request, as the approvals screen shows it to him?"""
    request_id = _request(client, tok["yamada"], "備品の購入", "机と椅子")
    assert _found(client, tok["tanaka"], "備品")["total"] == 0
    today = calendar.today().isoformat()
    absence = client.post(
        "/api/v1/approvals/absences",
        json={"user": "sato", "deputy": "tanaka", "from": today, "until": today},
        headers=auth(tok["admin"]),
    )
    assert absence.status_code == 201, absence.get_json()
    assert [r["id"] for r in _found(client, tok["tanaka"], "備品")["results"]] == [request_id]
    assert client.get(f"/api/v1/approvals/{request_id}", headers=auth(tok["tanaka"])).status_code == 200


def test_approval_changes_are_reindexed(client: Any, tok: dict[str, str]) -> None:
    """Is an approval re-indexed on every change (status and 文書番号 searchable after the decision)?"""
    request_id = _request(client, tok["yamada"], "道路補修工事", "村道三号線")
    url = f"/api/v1/approvals/{request_id}/actions"
    assert client.post(url, json={"action": "approve"}, headers=auth(tok["suzuki"])).status_code == 200
    decided = client.post(url, json={"action": "approve"}, headers=auth(tok["sato"])).get_json()
    assert decided["status"] == "approved"
    hit = _found(client, tok["yamada"], decided["document_number"], type="approval")["results"][0]
    assert hit["id"] == request_id and hit["status"] == "approved"
    assert hit["document_number"] == decided["document_number"]


def test_one_box_finds_every_kind_with_type_facets(client: Any, tok: dict[str, str]) -> None:
    """Does one query find a document, an approval and a message, counted per type, and type= filter?"""
    up = upload(client, tok["yamada"], "予算の資料".encode(), "yosan.txt", title="予算資料")
    assert up.status_code == 201
    _request(client, tok["yamada"], "予算の執行", "執行計画")
    channel = _private_channel(client, tok["yamada"], "雑談", ["suzuki"])
    _post(client, tok["yamada"], channel, "予算の件、了解です")
    body = _found(client, tok["yamada"], SECRET_WORD)
    assert body["facets"]["type"] == {"document": 1, "approval": 1, "message": 1}
    assert body["total"] == 3
    for kind in ("document", "approval", "message"):
        only = _found(client, tok["yamada"], SECRET_WORD, type=kind)
        assert only["total"] == 1 and only["results"][0]["type"] == kind


def test_rebuild_indexes_messages_and_approvals(app: Any, client: Any, tok: dict[str, str]) -> None:
    """Does a full rebuild (workspace reindex) bring messages and approvals back, trimmed as before?"""
    channel = _private_channel(client, tok["yamada"], "再構築", ["suzuki"])
    _post(client, tok["yamada"], channel, "予算の再確認")
    _request(client, tok["yamada"], "予算の再配分", "説明")
    result = app.test_cli_runner().invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert _found(client, tok["suzuki"], SECRET_WORD)["facets"]["type"] == {"message": 1, "approval": 1}
    assert _found(client, tok["tanaka"], SECRET_WORD)["total"] == 0


def test_search_page_shows_messages_and_approvals(client: Any, tok: dict[str, str]) -> None:
    """Does the search page list a message and an approval with their labels?"""
    from tests.conftest import login

    channel = _private_channel(client, tok["yamada"], "画面", ["suzuki"])
    _post(client, tok["yamada"], channel, "予算の画面確認")
    _request(client, tok["yamada"], "予算の画面", "本文")
    login(client, "yamada")
    html = client.get("/search", query_string={"q": SECRET_WORD}).get_data(as_text=True)
    assert "#画面・山田 太郎" in html and "予算の画面" in html
    assert 'hit-type-message">チャット<' in html and 'hit-type-approval">決裁（決裁中）<' in html
