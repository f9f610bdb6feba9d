"""Messages: posting, idempotent retries, threads, edit history, soft delete, the lock, mentions, limits."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, update

from chat import messages
from chat.models import Message, MessageEdit
from tests.chat.conftest import connect, frames
from workspace import db
from workspace.models import AuditEntry


@pytest.fixture
def soumu(people) -> int:
    return people["yamada"].channel_id("総務課")


def _count() -> int:
    return db.session().execute(select(func.count(Message.id))).scalar()


def test_posted_message_has_the_exact_public_shape(people, soumu):
    response = people["yamada"].post(
        f"/channels/{soumu}/messages", {"body": "おはようございます", "client_msg_id": "c-1"}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) >= {
        "id",
        "channel_id",
        "author",
        "body",
        "created_at",
        "edited_at",
        "thread_id",
        "client_msg_id",
    }
    assert body["author"] == {"username": "yamada", "display_name": "山田 太郎"}
    assert body["channel_id"] == soumu and body["body"] == "おはようございます"
    assert body["created_at"].endswith("+09:00") and body["edited_at"] is None
    assert body["thread_id"] is None and body["client_msg_id"] == "c-1"


def test_history_is_ascending_and_pages_both_ways(people, soumu):
    ids = [
        people["yamada"].post(f"/channels/{soumu}/messages", {"body": f"m{i}"}).get_json()["id"]
        for i in range(7)
    ]
    assert ids == sorted(ids)
    got = people["suzuki"].get(f"/channels/{soumu}/messages").get_json()["messages"]
    assert [m["id"] for m in got] == ids
    newest = people["suzuki"].get(f"/channels/{soumu}/messages?limit=3").get_json()["messages"]
    assert [m["id"] for m in newest] == ids[-3:]
    older = (
        people["suzuki"].get(f"/channels/{soumu}/messages?limit=3&before={ids[-3]}").get_json()["messages"]
    )
    assert [m["id"] for m in older] == ids[1:4]
    after = people["suzuki"].get(f"/channels/{soumu}/messages?limit=2&after={ids[2]}").get_json()["messages"]
    assert [m["id"] for m in after] == ids[3:5]


def test_retried_send_with_the_same_client_msg_id_returns_the_same_message(people, soumu):
    ws = people["suzuki"].socket()
    first = people["yamada"].post(
        f"/channels/{soumu}/messages", {"body": "一回だけ", "client_msg_id": "k-42"}
    )
    again = people["yamada"].post(
        f"/channels/{soumu}/messages", {"body": "一回だけ", "client_msg_id": "k-42"}
    )
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json() == again.get_json()
    assert _count() == 1
    assert len(frames(ws, "message:new")) == 1  # announced once, not per retry
    # The key belongs to the author: another person's identical key is another message.
    other = people["suzuki"].post(
        f"/channels/{soumu}/messages", {"body": "一回だけ", "client_msg_id": "k-42"}
    )
    assert other.status_code == 201 and _count() == 2


def test_concurrent_retries_with_one_client_msg_id_store_one_message(app, people, soumu):
    results: list = []
    yamada = people["yamada"]

    def send() -> None:
        client = app.test_client()
        response = client.post(
            f"/api/v1/channels/{soumu}/messages",
            json={"body": "同時", "client_msg_id": "race"},
            headers=yamada.headers,
        )
        results.append((response.status_code, response.get_json()["id"]))

    db.session().commit()
    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(code for code, _ in results) == [200] * 7 + [201]
    assert len({message_id for _, message_id in results}) == 1
    assert _count() == 1


def test_replies_join_the_root_thread(people, soumu):
    root = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "議題"}).get_json()
    reply = (
        people["suzuki"]
        .post(f"/channels/{soumu}/messages", {"body": "賛成", "thread_id": root["id"]})
        .get_json()
    )
    nested = (
        people["sato"]
        .post(f"/channels/{soumu}/messages", {"body": "了解", "thread_id": reply["id"]})
        .get_json()
    )
    assert reply["thread_id"] == root["id"] and nested["thread_id"] == root["id"]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({}, 400, "bad_request"),
        ({"body": None}, 400, "bad_request"),
        ({"body": 12}, 400, "bad_request"),
        ({"body": ["x"]}, 400, "bad_request"),
        ({"body": "   \n "}, 422, "empty"),
        ({"body": "あ" * 4001}, 413, "too_long"),
        ({"body": "x", "client_msg_id": "k" * 65}, 400, "bad_request"),
        ({"body": "x", "client_msg_id": 5}, 400, "bad_request"),
        ({"body": "x", "thread_id": "1"}, 400, "bad_request"),
        ({"body": "x", "thread_id": 999999}, 422, "bad_thread"),
    ],
)
def test_bad_messages_get_a_documented_error_and_write_nothing(people, soumu, payload, status, code):
    response = people["yamada"].post(f"/channels/{soumu}/messages", payload)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]
    assert _count() == 0


def test_more_bad_requests_are_4xx_never_500(people, soumu):
    yamada = people["yamada"]
    assert yamada.post("/channels/424242/messages", {"body": "x"}).status_code == 404
    assert (
        yamada.client.post(f"/api/v1/channels/{soumu}/messages", data="{", headers=yamada.headers).status_code
        == 400
    )
    for query in ("after=x", "before=-1", "limit=abc", "after=1e3"):
        assert yamada.get(f"/channels/{soumu}/messages?{query}").status_code == 400
    assert yamada.patch("/messages/1", {"body": "x"}).status_code == 404
    assert yamada.post(f"/channels/{soumu}/read", {"last_read_id": "3"}).status_code == 400
    assert yamada.post(f"/channels/{soumu}/read", {}).status_code == 400
    assert yamada.post(f"/channels/{soumu}/read", {"last_read_id": True}).status_code == 400
    assert _count() == 0


def test_edit_keeps_the_previous_text_and_marks_the_message_edited(people, soumu):
    ws = people["suzuki"].socket()
    posted = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "会議は10時"}).get_json()
    response = people["yamada"].patch(f"/messages/{posted['id']}", {"body": "会議は11時"})
    assert response.status_code == 200
    assert response.get_json()["body"] == "会議は11時" and response.get_json()["edited_at"].endswith("+09:00")
    history = people["suzuki"].get(f"/messages/{posted['id']}/history").get_json()["edits"]
    assert [h["previous_body"] for h in history] == ["会議は10時"]
    edited = frames(ws, "message:edited")
    assert [f[1]["body"] for f in edited] == ["会議は11時"]


def test_nobody_edits_or_deletes_someone_elses_message(people, soumu):
    posted = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "原文"}).get_json()
    assert people["suzuki"].patch(f"/messages/{posted['id']}", {"body": "改ざん"}).status_code == 403
    assert people["suzuki"].delete(f"/messages/{posted['id']}").status_code == 403
    assert people["tanaka"].patch(f"/messages/{posted['id']}", {"body": "改ざん"}).status_code == 403
    assert people["yamada"].patch(f"/messages/{posted['id']}", {}).status_code == 400
    assert db.session().get(Message, posted["id"]).body == "原文"
    assert db.session().execute(select(func.count(MessageEdit.id))).scalar() == 0


def test_edit_and_delete_stop_after_the_lock(people, soumu):
    posted = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "記録"}).get_json()
    db.session().execute(
        update(Message)
        .where(Message.id == posted["id"])
        .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31))
    )
    db.session().commit()
    for response in (
        people["yamada"].patch(f"/messages/{posted['id']}", {"body": "変更"}),
        people["yamada"].delete(f"/messages/{posted['id']}"),
    ):
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "locked"
        assert "30分" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("app_config", [{"CHAT_EDIT_LOCK_MINUTES": "120"}])
def test_edit_lock_is_configurable(people, soumu):
    posted = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "記録"}).get_json()
    db.session().execute(
        update(Message)
        .where(Message.id == posted["id"])
        .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31))
    )
    db.session().commit()
    assert people["yamada"].patch(f"/messages/{posted['id']}", {"body": "変更"}).status_code == 200


def test_soft_delete_hides_the_body_but_keeps_the_evidence(people, soumu):
    ws = people["suzuki"].socket()
    posted = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "誤送信"}).get_json()
    assert people["yamada"].delete(f"/messages/{posted['id']}").status_code == 204
    shown = people["suzuki"].get(f"/channels/{soumu}/messages").get_json()["messages"]
    assert [(m["id"], m["body"], m["deleted"]) for m in shown] == [(posted["id"], "", True)]
    row = db.session().get(Message, posted["id"])
    assert row.body == "誤送信" and row.deleted_at is not None
    assert (
        db.session()
        .execute(select(AuditEntry).where(AuditEntry.action == "chat.message.delete"))
        .scalar_one()
        .target
        == f"message:{posted['id']}"
    )
    assert frames(ws, "message:deleted") == [("message:deleted", {"id": posted["id"], "channel_id": soumu})]
    assert people["yamada"].delete(f"/messages/{posted['id']}").status_code == 409


def test_mentions_notify_the_named_members_only(people, soumu):
    names = ("sato", "suzuki", "tanaka", "yamada")
    sockets = dict(zip(names, connect(people, *names), strict=True))
    people["yamada"].post(f"/channels/{soumu}/messages", {"body": "@suzuki さん、@tanaka さんにも確認を"})
    mentioned = {name: frames(ws, "notification:new") for name, ws in sockets.items()}
    assert len(mentioned["suzuki"]) == 1
    assert mentioned["suzuki"][0][1]["kind"] == "mention"
    assert mentioned["tanaka"] == []  # not a member: must not learn of the channel
    assert mentioned["sato"] == [] and mentioned["yamada"] == []
    people["suzuki"].post(f"/channels/{soumu}/messages", {"body": "@channel 本日17時から"})
    everyone = {name: frames(ws, "notification:new") for name, ws in sockets.items()}
    assert len(everyone["sato"]) == 1 and len(everyone["yamada"]) == 1
    assert everyone["suzuki"] == [] and everyone["tanaka"] == []


@pytest.mark.parametrize("app_config", [{"CHAT_RATE_LIMIT": "3 per minute"}])
def test_rate_limit_answers_429_and_writes_nothing(people, soumu):
    for i in range(3):
        assert people["yamada"].post(f"/channels/{soumu}/messages", {"body": f"{i}"}).status_code == 201
    refused = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "4"})
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "throttled"
    assert _count() == 3
    assert people["suzuki"].post(f"/channels/{soumu}/messages", {"body": "別人"}).status_code == 201


def test_default_rate_limit_lets_10_a_second_for_a_minute_but_stops_a_runaway(app, village, monkeypatch):
    import limits.storage.memory as memory

    clock = [1_000_000.0]
    monkeypatch.setattr(memory.time, "time", lambda: clock[0])
    user = village["yamada"]
    for _second in range(60):
        for _ in range(10):
            messages._check_rate(user)
        clock[0] += 1.0
    refused = 0
    for _ in range(100):  # a loop gone wrong: 100 in one second
        try:
            messages._check_rate(user)
        except messages.ChatError as error:
            assert error.status == 429
            refused += 1
    assert refused >= 80
