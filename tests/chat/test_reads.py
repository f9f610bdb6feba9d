"""Unread counts, read positions that only move forward, and 既読: who has read a message and when."""

from __future__ import annotations

import pytest

from tests.chat.conftest import connect, frames


@pytest.fixture
def soumu(people) -> int:
    return people["yamada"].channel_id("総務課")


def _unread(person, channel_id: int) -> int:
    return next(c["unread"] for c in person.get("/channels").get_json()["channels"] if c["id"] == channel_id)


def test_unread_counts_others_messages_after_the_read_position(people, soumu):
    ids = [
        people["yamada"].post(f"/channels/{soumu}/messages", {"body": f"{i}"}).get_json()["id"]
        for i in range(3)
    ]
    assert _unread(people["suzuki"], soumu) == 3
    assert _unread(people["yamada"], soumu) == 0  # one's own messages are never unread
    answer = people["suzuki"].post(f"/channels/{soumu}/read", {"last_read_id": ids[1]})
    assert answer.status_code == 200
    assert answer.get_json() == {"channel_id": soumu, "last_read_id": ids[1], "unread": 1}
    # A stale tab reporting an older position does not move it back.
    assert (
        people["suzuki"].post(f"/channels/{soumu}/read", {"last_read_id": ids[0]}).get_json()["last_read_id"]
        == ids[1]
    )
    # Nobody can have read beyond the newest message.
    assert people["suzuki"].post(f"/channels/{soumu}/read", {"last_read_id": 10**9}).get_json() == {
        "channel_id": soumu,
        "last_read_id": ids[2],
        "unread": 0,
    }
    people["yamada"].delete(f"/messages/{ids[2]}")
    people["yamada"].post(f"/channels/{soumu}/messages", {"body": "新"})
    assert _unread(people["sato"], soumu) == 3  # the deleted message no longer counts


def test_readers_lists_who_read_and_who_did_not(people, soumu):
    posted = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "回覧です"}).get_json()
    people["suzuki"].post(f"/channels/{soumu}/read", {"last_read_id": posted["id"]})
    body = people["yamada"].get(f"/messages/{posted['id']}/readers").get_json()
    assert set(body) == {"read", "unread"}
    assert [(r["username"], r["display_name"]) for r in body["read"]] == [("suzuki", "鈴木 花子")]
    assert body["read"][0]["read_at"].endswith("+09:00")
    assert body["unread"] == [
        {"username": "admin", "display_name": "管理 太郎"},
        {"username": "sato", "display_name": "佐藤 一郎"},
    ]
    listed = people["yamada"].get(f"/channels/{soumu}/messages").get_json()["messages"]
    assert listed[0]["read_count"] == 1  # 既読 1


def test_reading_later_messages_counts_as_reading_earlier_ones(people, soumu):
    first = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "1"}).get_json()
    second = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "2"}).get_json()
    people["sato"].post(f"/channels/{soumu}/read", {"last_read_id": second["id"]})
    assert [
        r["username"] for r in people["yamada"].get(f"/messages/{first['id']}/readers").get_json()["read"]
    ] == ["sato"]
    # Replying means having read: the author of a reply has read what came before it.
    people["suzuki"].post(f"/channels/{soumu}/messages", {"body": "返信"})
    assert {
        r["username"] for r in people["yamada"].get(f"/messages/{first['id']}/readers").get_json()["read"]
    } == {"sato", "suzuki"}


def test_read_updated_reaches_channel_members_only(people, soumu):
    posted = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "読んだ?"}).get_json()
    yamada_ws, tanaka_ws = connect(people, "yamada", "tanaka")
    people["suzuki"].post(f"/channels/{soumu}/read", {"last_read_id": posted["id"]})
    assert frames(yamada_ws, "read:updated") == [
        ("read:updated", {"channel_id": soumu, "username": "suzuki", "last_read_id": posted["id"]})
    ]
    assert frames(tanaka_ws) == []
