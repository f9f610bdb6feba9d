"""通知 (workspace.notifications): stored with their cause, never twice, the owner's only, marked read.

The API is exactly GET /api/v1/notifications?unread=1 → {"notifications": [...], "unread": N} and
POST /api/v1/notifications/read {"ids": [...]} | {"all": true} → 204.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from approvals import service
from tests.approvals import test_service_support as support
from tests.conftest import api_token
from workspace import db, notifications
from workspace.notifications import Notification

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys
sent = support.sent


def _count() -> int:
    return db.session().execute(select(func.count()).select_from(Notification)).scalar_one()


def _api(client: Any, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(client, username)}"}


def test_a_notice_commits_with_its_cause_or_not_at_all(village: dict[str, Any], sent: list) -> None:
    """Is a notice written in the caller's transaction: gone on rollback, pushed only after commit?"""
    yamada, suzuki = village["yamada"], village["suzuki"]
    notifications.notify([yamada.id], "mention", "chat.message:1", "本文", "/chat/", actor_id=suzuki.id)
    assert sent == []  # nothing is told before the commit
    db.session().rollback()
    assert _count() == 0 and sent == []
    notifications.notify([yamada.id], "mention", "chat.message:1", "本文", "/chat/", actor_id=suzuki.id)
    db.session().commit()
    assert _count() == 1
    assert [(ids, event) for ids, event, _ in sent] == [({yamada.id}, "notification:new")]


def test_the_same_event_never_notifies_twice_nor_the_actor(village: dict[str, Any], sent: list) -> None:
    """Does a second notify for the same ref write and push nothing, and is the actor always left out?"""
    yamada, suzuki = village["yamada"], village["suzuki"]
    first = notifications.notify(
        [yamada.id, suzuki.id], "reply", "chat.message:7", "返信", "/chat/", actor_id=suzuki.id
    )
    db.session().commit()
    again = notifications.notify([yamada.id], "reply", "chat.message:7", "返信", "/chat/", actor_id=suzuki.id)
    db.session().commit()
    assert first == [yamada.id] and again == []
    assert _count() == 1 and len(sent) == 1


def test_api_lists_my_notices_newest_first_with_the_unread_count(
    client: Any, village: dict[str, Any]
) -> None:
    """Does each person see only their own notices, newest first, unread=1 filtering, with the count?"""
    yamada, suzuki = village["yamada"], village["suzuki"]
    for n in range(3):
        notifications.notify([yamada.id], "mention", f"chat.message:{n}", f"第{n}報", f"/chat/#{n}")
    notifications.notify([suzuki.id], "reaction", "chat.reaction:1", "鈴木さんへ", "/chat/")
    db.session().commit()
    headers = _api(client, "yamada")
    body = client.get("/api/v1/notifications", headers=headers).get_json()
    assert set(body) == {"notifications", "unread"} and body["unread"] == 3
    assert [n["text"] for n in body["notifications"]] == ["第2報", "第1報", "第0報"]
    assert all(
        set(n) == {"id", "kind", "created_at", "read_at", "text", "url"} for n in body["notifications"]
    )
    newest = body["notifications"][0]["id"]
    assert (
        client.post("/api/v1/notifications/read", json={"ids": [newest]}, headers=headers).status_code == 204
    )
    unread = client.get("/api/v1/notifications?unread=1", headers=headers).get_json()
    assert [n["text"] for n in unread["notifications"]] == ["第1報", "第0報"] and unread["unread"] == 2
    everything = client.get("/api/v1/notifications?unread=0", headers=headers).get_json()["notifications"]
    assert everything[0]["read_at"] is not None and everything[0]["read_at"].endswith("+09:00")


def test_marking_read_ignores_other_peoples_ids_and_all_marks_every_one(
    client: Any, village: dict[str, Any]
) -> None:
    """Are another person's ids ignored (204, still unread for them) and does {"all": true} read all mine?"""
    yamada, suzuki = village["yamada"], village["suzuki"]
    notifications.notify([yamada.id], "mention", "chat.message:1", "山田さんへ", "/chat/")
    notifications.notify([yamada.id], "reply", "chat.message:2", "山田さんへ2", "/chat/")
    notifications.notify([suzuki.id], "mention", "chat.message:1", "鈴木さんへ", "/chat/")
    db.session().commit()
    his = db.session().execute(select(Notification.id).where(Notification.user_id == suzuki.id)).scalar_one()
    headers = _api(client, "yamada")
    assert (
        client.post("/api/v1/notifications/read", json={"ids": [his, 99999]}, headers=headers).status_code
        == 204
    )
    assert notifications.unread_count(suzuki) == 1 and notifications.unread_count(yamada) == 2
    assert client.post("/api/v1/notifications/read", json={"all": True}, headers=headers).status_code == 204
    assert notifications.unread_count(yamada) == 0 and notifications.unread_count(suzuki) == 1


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {},
        {"ids": "1"},
        {"ids": [True]},
        {"ids": ["1"]},
        {"all": False},
        {"all": "yes"},
        {"all": True, "ids": [1]},
        {"ids": list(range(501))},
    ],
)
def test_bad_read_bodies_answer_400_in_japanese(client: Any, village: dict[str, Any], body: Any) -> None:
    """Is every malformed mark-read body refused with 400 and a Japanese message, changing nothing?"""
    notifications.notify([village["yamada"].id], "mention", "chat.message:1", "本文", "/chat/")
    db.session().commit()
    headers = _api(client, "yamada")
    response = client.post("/api/v1/notifications/read", json=body, headers=headers)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] and any("\u3040" <= c <= "\u30ff" for c in error["message"])
    assert notifications.unread_count(village["yamada"]) == 1


def test_list_refuses_bad_filters_and_strangers(client: Any, village: dict[str, Any]) -> None:
    """Are a bad unread or limit 400, and is an anonymous caller 401?"""
    headers = _api(client, "yamada")
    assert client.get("/api/v1/notifications?unread=yes", headers=headers).status_code == 400
    assert client.get("/api/v1/notifications?limit=0", headers=headers).status_code == 400
    assert client.get("/api/v1/notifications?limit=abc", headers=headers).status_code == 400
    assert client.get("/api/v1/notifications?limit=2", headers=headers).status_code == 200
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post("/api/v1/notifications/read", json={"all": True}).status_code == 401


def test_openapi_documents_the_notification_calls(client: Any) -> None:
    """Are both calls in the OpenAPI document with their statuses?"""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/notifications"]["get"]["responses"]) >= {"200", "400", "401"}
    assert set(paths["/api/v1/notifications/read"]["post"]["responses"]) >= {"204", "400", "401"}


def _texts(user: Any) -> list[str]:
    return [n.text for n in notifications.list_for(user)]


def test_approval_turns_send_backs_and_decisions_notify_the_right_person(org: dict[str, Any]) -> None:
    """Is each approver told of their turn, the drafter of 差戻し (with reason) and 決裁, never the actor?"""
    yamada, suzuki, sato = org["yamada"], org["suzuki"], org["sato"]
    row = service.create(yamada, {"route": "general", "title": "備品購入", "submit": True})
    assert _texts(suzuki) == ["山田 太郎さんの起案「備品購入」があなたの決裁待ちになりました"]
    assert notifications.list_for(suzuki)[0].url == f"/approvals/{row.id}"
    assert notifications.list_for(suzuki)[0].kind == "approval"
    service.act(suzuki, row.id, "approve")
    assert _texts(sato) == ["山田 太郎さんの起案「備品購入」があなたの決裁待ちになりました"]
    service.act(sato, row.id, "send_back", comment="見積書を添付してください")
    assert _texts(yamada) == ["佐藤 一郎さんが起案「備品購入」を差し戻しました：見積書を添付してください"]
    service.act(yamada, row.id, "resubmit")
    assert len(_texts(suzuki)) == 2  # a new turn after 再提出 is a new notice
    service.act(suzuki, row.id, "approve")
    service.act(sato, row.id, "approve")
    assert _texts(yamada)[0] == "起案「備品購入」が決裁されました"
    assert _texts(sato)[0] != "起案「備品購入」が決裁されました"  # the decider is not told of his own act
    other = service.create(yamada, {"route": "general", "title": "研修参加", "submit": True})
    service.act(suzuki, other.id, "reject", comment="不要")
    assert _texts(yamada)[0] == "鈴木 花子さんが起案「研修参加」を却下しました"


def test_the_page_lists_mine_escaped_in_wareki_and_needs_a_sign_in(
    client: Any, village: dict[str, Any]
) -> None:
    """Does /notifications show my notices (text escaped, 和暦 time, kind in Japanese) only once signed in?"""
    from tests.conftest import login

    assert client.get("/notifications").status_code == 302
    yamada = village["yamada"]
    notifications.notify(
        [yamada.id], "reaction", "chat.reaction:1:2:👍", "<img src=x onerror=alert(1)>", "/chat/"
    )
    notifications.notify([village["suzuki"].id], "mention", "chat.message:9", "鈴木さんだけに", "/chat/")
    db.session().commit()
    login(client, "yamada")
    html = client.get("/notifications").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
    assert "リアクション" in html and "令和" in html and "新着" in html
    assert "鈴木さんだけに" not in html
    assert '<span class="visually-hidden" id="notice-count-words"> 1件</span>' in html
