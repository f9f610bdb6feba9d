"""Socket.IO: message:send with acknowledgements, and exactly which frames each person receives."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from chat.models import Message
from tests.chat.conftest import connect, emit, frames
from workspace import auth, db, directory


@pytest.fixture
def soumu(people) -> int:
    return people["yamada"].channel_id("総務課")


def _count() -> int:
    return db.session().execute(select(func.count(Message.id))).scalar()


def test_message_send_is_acknowledged_and_reaches_members_only(people, soumu):
    yamada, suzuki, tanaka = connect(people, "yamada", "suzuki", "tanaka")
    ack = emit(yamada, "message:send", {"channel_id": soumu, "body": "こんにちは", "client_msg_id": "a1"})
    assert ack["ok"] is True
    message = ack["message"]
    assert message["body"] == "こんにちは" and message["author"]["username"] == "yamada"
    assert frames(suzuki) == [("message:new", message)]
    assert frames(yamada) == [("message:new", message)]  # the sender's other tabs learn of it too
    assert frames(tanaka) == []


def test_message_send_retry_is_idempotent(people, soumu):
    yamada, suzuki = connect(people, "yamada", "suzuki")
    first = emit(yamada, "message:send", {"channel_id": soumu, "body": "再送", "client_msg_id": "r1"})
    again = emit(yamada, "message:send", {"channel_id": soumu, "body": "再送", "client_msg_id": "r1"})
    assert first == again and _count() == 1
    assert len(frames(suzuki, "message:new")) == 1


def test_private_channel_frames_reach_its_members_only(people):
    channel = (
        people["yamada"]
        .post("/channels", {"name": "秘密", "kind": "private", "members": ["suzuki"]})
        .get_json()
    )
    names = ("yamada", "suzuki", "sato", "tanaka", "admin")
    sockets = dict(zip(names, connect(people, *names), strict=True))
    ack = emit(
        sockets["yamada"], "message:send", {"channel_id": channel["id"], "body": "内密", "client_msg_id": "p"}
    )
    assert ack["ok"]
    got = {n: frames(ws) for n, ws in sockets.items()}
    assert got["suzuki"] == [("message:new", ack["message"])]
    assert got["sato"] == got["tanaka"] == got["admin"] == []


def test_channel_created_while_online_starts_delivering_at_once(people):
    tanaka = people["tanaka"].socket()
    channel = people["yamada"].post("/channels", {"kind": "direct", "members": ["tanaka"]}).get_json()
    people["yamada"].post(f"/channels/{channel['id']}/messages", {"body": "DMです"})
    assert [f[1]["body"] for f in frames(tanaka, "message:new")] == ["DMです"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (None, "bad_request"),
        ("text", "bad_request"),
        ({"channel_id": "1", "body": "x"}, "not_found"),
        ({"channel_id": 999999, "body": "x"}, "not_found"),
        ({"channel_id": None, "body": "x"}, "not_found"),
        ({"body": "x"}, "not_found"),
        ({"channel_id": "SOUMU", "body": None}, "bad_request"),
        ({"channel_id": "SOUMU", "body": "あ" * 4001}, "too_long"),
        ({"channel_id": "SOUMU", "body": " "}, "empty"),
        ({"channel_id": "KIKAKU", "body": "x"}, "not_member"),
    ],
)
def test_message_send_errors_are_acknowledged_and_write_nothing(people, soumu, payload, code):
    kikaku = people["tanaka"].channel_id("企画財政課")
    if (
        isinstance(payload, dict)
        and isinstance(payload.get("channel_id"), str)
        and payload["channel_id"].isupper()
    ):
        payload = {**payload, "channel_id": {"SOUMU": soumu, "KIKAKU": kikaku}[payload["channel_id"]]}
    yamada, suzuki = connect(people, "yamada", "suzuki")
    ack = emit(yamada, "message:send", payload)
    assert ack["ok"] is False and ack["error"]["code"] == code and ack["error"]["message"]
    assert _count() == 0
    assert frames(suzuki) == []


def test_revoked_token_stops_sending_on_the_open_socket(people, soumu, village):
    ws = people["yamada"].socket()
    token = auth.user_for_token(people["yamada"].token)[1]
    auth.revoke_token(village["yamada"], token.id)
    ack = emit(ws, "message:send", {"channel_id": soumu, "body": "x", "client_msg_id": "z"})
    assert ack == {"ok": False, "error": {"code": "unauthorized", "message": "サインインが必要です。"}}
    assert _count() == 0


def test_transfer_moves_live_sockets_between_channel_rooms(people, soumu):
    yamada = people["yamada"].socket()
    kikaku = people["tanaka"].channel_id("企画財政課")
    directory.update_local_user("yamada", actor="test", department_code="02")
    frames(yamada)
    people["suzuki"].post(f"/channels/{soumu}/messages", {"body": "総務の話"})
    people["tanaka"].post(f"/channels/{kikaku}/messages", {"body": "企画の話"})
    assert [f[1]["body"] for f in frames(yamada, "message:new")] == ["企画の話"]
    ack = emit(yamada, "message:send", {"channel_id": soumu, "body": "まだ見える?", "client_msg_id": "t"})
    assert ack["ok"] is False and ack["error"]["code"] == "not_member"


def test_typing_reaches_other_members_and_is_throttled(people, soumu):
    yamada, suzuki, tanaka = connect(people, "yamada", "suzuki", "tanaka")
    assert emit(yamada, "typing", {"channel_id": soumu}) == {"ok": True}
    assert emit(yamada, "typing", {"channel_id": soumu}) == {"ok": True, "throttled": True}
    assert frames(suzuki) == [
        ("typing", {"channel_id": soumu, "username": "yamada", "display_name": "山田 太郎"})
    ]
    assert frames(yamada) == [] and frames(tanaka) == []
    assert emit(tanaka, "typing", {"channel_id": soumu})["error"]["code"] == "not_member"
    assert frames(suzuki) == []


def test_presence_is_announced(people):
    tanaka, yamada = connect(people, "tanaka", "yamada")
    assert people["sato"].get("/presence").get_json() == {"online": ["tanaka", "yamada"]}
    assert emit(yamada, "presence", {"status": "online"}) == {"ok": True}
    assert frames(tanaka) == [("presence", {"username": "yamada", "status": "online"})]
    assert emit(yamada, "presence", {"status": "away"}) == {"ok": True}
    assert frames(tanaka) == [("presence", {"username": "yamada", "status": "away"})]
    assert emit(yamada, "presence", {"status": "invisible"})["ok"] is False
