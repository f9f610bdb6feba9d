"""Threads: GET /messages/<id>/thread, reply_count on messages, the also_in_channel flag, live counts."""

from __future__ import annotations

import pytest

from tests.chat.conftest import connect, emit, frames


@pytest.fixture
def soumu(people) -> int:
    return people["yamada"].channel_id("総務課")


def _post(person, channel_id: int, body: str, **extra) -> dict:
    response = person.post(f"/channels/{channel_id}/messages", {"body": body, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_thread_answers_the_parent_and_its_replies_in_order(people, soumu):
    """Does GET /messages/<id>/thread give exactly {"parent", "replies"} with reply_count on the parent?"""
    first = _post(people["yamada"], soumu, "議題A")
    second = _post(people["yamada"], soumu, "議題B")
    # Interleaved replies to two parents: each lands in its own thread only.
    a1 = _post(people["suzuki"], soumu, "Aに賛成", thread_id=first["id"])
    b1 = _post(people["sato"], soumu, "Bは保留", thread_id=second["id"])
    a2 = _post(people["sato"], soumu, "Aも了解", thread_id=a1["id"])  # a reply to a reply joins A
    body = people["suzuki"].get(f"/messages/{first['id']}/thread").get_json()
    assert set(body) == {"parent", "replies"}
    assert body["parent"]["id"] == first["id"] and body["parent"]["reply_count"] == 2
    assert [r["id"] for r in body["replies"]] == [a1["id"], a2["id"]]
    assert [r["body"] for r in body["replies"]] == ["Aに賛成", "Aも了解"]
    assert all(r["thread_id"] == first["id"] and r["reply_count"] == 0 for r in body["replies"])
    assert body["replies"][0]["reactions"] == []
    # Asked for a reply, the answer is its whole thread.
    assert people["suzuki"].get(f"/messages/{a2['id']}/thread").get_json()["parent"]["id"] == first["id"]
    other = people["suzuki"].get(f"/messages/{second['id']}/thread").get_json()
    assert [r["id"] for r in other["replies"]] == [b1["id"]]


def test_history_and_payloads_carry_reply_count(people, soumu):
    """Do history rows, message:new and message:edited carry reply_count and also_in_channel?"""
    (ws,) = connect(people, "suzuki")
    parent = _post(people["yamada"], soumu, "確認お願いします")
    assert parent["reply_count"] == 0 and parent["also_in_channel"] is False
    _post(people["suzuki"], soumu, "確認しました", thread_id=parent["id"])
    _post(people["sato"], soumu, "私も", thread_id=parent["id"], also_in_channel=True)
    rows = people["sato"].get(f"/channels/{soumu}/messages").get_json()["messages"]
    assert [(m["reply_count"], m["also_in_channel"]) for m in rows] == [(2, False), (0, False), (0, True)]
    new = [p for _, p in frames(ws, "message:new")]
    assert [m["reply_count"] for m in new] == [0, 0, 0]
    assert [m["also_in_channel"] for m in new] == [False, False, True]
    people["yamada"].patch(f"/messages/{parent['id']}", {"body": "確認をお願いします"})
    (edited,) = [p for _, p in frames(ws, "message:edited")]
    assert edited["reply_count"] == 2


def test_reply_count_is_announced_live_and_falls_when_a_reply_is_deleted(people, soumu):
    """Does every reply (and the deletion of one) announce thread:updated with the database's count?"""
    parent = _post(people["yamada"], soumu, "備品の件")
    (ws,) = connect(people, "sato")
    reply = _post(people["suzuki"], soumu, "一件目", thread_id=parent["id"])
    ack = emit(
        people["yamada"].socket(),
        "message:send",
        {
            "channel_id": soumu,
            "body": "二件目",
            "thread_id": parent["id"],
            "also_in_channel": True,
        },
    )
    assert ack["ok"] and ack["message"]["also_in_channel"] is True
    people["suzuki"].delete(f"/messages/{reply['id']}")
    updates = [p for name, p in frames(ws) if name == "thread:updated"]
    assert updates == [
        {"channel_id": soumu, "thread_id": parent["id"], "reply_count": 1},
        {"channel_id": soumu, "thread_id": parent["id"], "reply_count": 2},
        {"channel_id": soumu, "thread_id": parent["id"], "reply_count": 1},
    ]
    assert people["sato"].get(f"/messages/{parent['id']}/thread").get_json()["parent"]["reply_count"] == 1


def test_thread_of_a_channel_i_am_not_in_is_404(people, soumu):
    """Is another 課's thread, or a missing message, answered 404 with the documented error?"""
    parent = _post(people["yamada"], soumu, "総務課の内部連絡")
    for who, message_id in (("tanaka", parent["id"]), ("yamada", 10**8)):
        response = people[who].get(f"/messages/{message_id}/thread")
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [({"also_in_channel": "yes"}, 400, "bad_request"), ({"also_in_channel": True}, 422, "not_a_reply")],
)
def test_bad_also_in_channel_is_refused_and_writes_nothing(people, soumu, extra, status, code):
    """Is also_in_channel checked (a boolean, and only on a reply) with a Japanese message?"""
    response = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "x", **extra})
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert people["yamada"].get(f"/channels/{soumu}/messages").get_json()["messages"] == []


def test_replies_only_in_their_thread_are_not_unread_in_the_channel(people, soumu):
    """Does a thread-only reply leave the channel's unread count alone, and a broadcast one raise it?"""
    parent = _post(people["yamada"], soumu, "議題")
    people["sato"].post(f"/channels/{soumu}/read", {"last_read_id": parent["id"]})
    _post(people["suzuki"], soumu, "スレッドだけ", thread_id=parent["id"])

    def unread() -> int:
        channels = people["sato"].get("/channels").get_json()["channels"]
        return next(c["unread"] for c in channels if c["id"] == soumu)

    assert unread() == 0
    _post(people["suzuki"], soumu, "チャンネルにも", thread_id=parent["id"], also_in_channel=True)
    assert unread() == 1
    assert people["sato"].get(f"/channels/{soumu}").get_json()["unread"] == 1


def test_thread_api_is_in_the_openapi_document(client):
    """Is GET /messages/{id}/thread, and the also_in_channel field, in /api/v1/openapi.json?"""
    spec = client.get("/api/v1/openapi.json").get_json()
    thread = spec["paths"]["/api/v1/messages/{message_id}/thread"]["get"]
    assert set(thread["responses"]) >= {"200", "404"}
    post = spec["paths"]["/api/v1/channels/{channel_id}/messages"]["post"]
    fields = post["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert fields["also_in_channel"]["type"] == "boolean"
