"""Chat's 通知: mentions, replies in a thread and reactions become stored notices for the right people.

Each notice is in GET /api/v1/notifications after the fact (it persists) and was pushed once as
notification:new to the person's sockets; the actor and anyone outside the channel get nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.chat.conftest import connect, frames


@pytest.fixture
def soumu(people: dict[str, Any]) -> int:
    return people["yamada"].channel_id("総務課")


def notices(person: Any) -> list[dict[str, Any]]:
    return person.get("/notifications").get_json()["notifications"]


def test_a_mention_is_stored_and_pushed_once_to_the_member_named(people, soumu):
    """Does @suzuki give 鈴木 one mention notice with 氏名, excerpt and link, and nobody else any?"""
    names = ("sato", "suzuki", "tanaka", "yamada")
    sockets = dict(zip(names, connect(people, *names), strict=True))
    body = {"body": "@suzuki さん、@tanaka さんにも確認を", "client_msg_id": "k1"}
    posted = people["yamada"].post(f"/channels/{soumu}/messages", body).get_json()
    people["yamada"].post(f"/channels/{soumu}/messages", body)  # a retried send notifies nobody again

    (notice,) = notices(people["suzuki"])
    assert set(notice) == {"id", "kind", "created_at", "read_at", "text", "url"}
    assert notice["kind"] == "mention" and notice["read_at"] is None
    assert notice["text"] == "山田 太郎さんがあなたをメンションしました：@suzuki さん、@tanaka さんにも確認を"
    assert notice["url"] == f"/chat/?channel={soumu}#message-{posted['id']}"
    assert notice["created_at"].endswith("+09:00")
    (pushed,) = frames(sockets["suzuki"], "notification:new")
    assert pushed[1]["id"] == notice["id"] and pushed[1]["unread"] == 1
    assert pushed[1]["created_label"].startswith("令和")
    assert notices(people["tanaka"]) == []  # not a member: must not learn the channel exists
    assert notices(people["yamada"]) == [] and notices(people["sato"]) == []
    assert frames(sockets["tanaka"], "notification:new") == []
    assert frames(sockets["yamada"], "notification:new") == []


def test_at_channel_tells_every_member_but_the_author(people, soumu):
    """Does @channel (as mentions_me understands it) notify each member once, never the author?"""
    people["suzuki"].post(f"/channels/{soumu}/messages", {"body": "@channel 本日17時から"})
    for name in ("sato", "yamada", "admin"):
        assert [n["kind"] for n in notices(people[name])] == ["mention"], name
    assert notices(people["suzuki"]) == [] and notices(people["tanaka"]) == []


def test_replies_tell_the_parents_author_and_those_who_replied(people, soumu):
    """Does a reply notify the thread's people (kind reply), a mentioned one only once, the actor never?"""
    parent = people["suzuki"].post(f"/channels/{soumu}/messages", {"body": "会議室の件"}).get_json()
    first = (
        people["yamada"]
        .post(f"/channels/{soumu}/messages", {"body": "承知しました", "thread_id": parent["id"]})
        .get_json()
    )
    assert [(n["kind"], n["text"]) for n in notices(people["suzuki"])] == [
        ("reply", "山田 太郎さんがスレッドに返信しました：承知しました")
    ]
    assert notices(people["suzuki"])[0]["url"] == f"/chat/?channel={soumu}#message-{parent['id']}"
    assert notices(people["yamada"]) == []
    people["sato"].post(
        f"/channels/{soumu}/messages", {"body": "@suzuki 予約済みです", "thread_id": first["id"]}
    )
    assert [n["kind"] for n in notices(people["suzuki"])] == ["mention", "reply"]  # one per message
    assert [n["kind"] for n in notices(people["yamada"])] == ["reply"]
    assert notices(people["sato"]) == [] and notices(people["admin"]) == []


def test_someone_who_left_the_channel_is_not_told_of_replies(people):
    """Is a person who left a channel no longer notified of replies in a thread they started?"""
    channel = people["tanaka"].post("/channels", {"kind": "public", "name": "防災訓練"}).get_json()["id"]
    assert people["yamada"].post(f"/channels/{channel}/join").status_code == 200
    parent = people["tanaka"].post(f"/channels/{channel}/messages", {"body": "日程案"}).get_json()
    assert people["tanaka"].post(f"/channels/{channel}/leave").status_code in (200, 204)
    people["yamada"].post(f"/channels/{channel}/messages", {"body": "了解", "thread_id": parent["id"]})
    assert notices(people["tanaka"]) == []


def test_a_reaction_tells_the_author_once_and_never_for_ones_own(people, soumu):
    """Does 鈴木's 👍 notify 山田 once (even after un- and re-reacting), and 山田's own reaction not?"""
    posted = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "資料を共有します"}).get_json()
    path = f"/messages/{posted['id']}/reactions"
    assert people["suzuki"].post(path, {"emoji": "👍"}).status_code == 201
    assert people["suzuki"].delete(f"{path}/👍").status_code in (200, 204)
    assert people["suzuki"].post(path, {"emoji": "👍"}).status_code == 201
    assert people["yamada"].post(path, {"emoji": "🙏"}).status_code == 201
    assert [(n["kind"], n["text"]) for n in notices(people["yamada"])] == [
        ("reaction", "鈴木 花子さんがあなたのメッセージに👍でリアクションしました：資料を共有します")
    ]
    assert notices(people["suzuki"]) == []


def test_home_counts_unread_mentions_and_replies_from_the_notices(people, soumu):
    """Does 今日の仕事's mentions_unread follow the notices: up with a mention and a reply, 0 once read?"""
    parent = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "会議の件"}).get_json()
    people["suzuki"].post(f"/channels/{soumu}/messages", {"body": "了解", "thread_id": parent["id"]})
    people["sato"].post(f"/channels/{soumu}/messages", {"body": "@yamada 返信不要です"})
    people["sato"].post(f"/messages/{parent['id']}/reactions", {"emoji": "👍"})  # not a mention
    assert people["yamada"].get("/home").get_json()["mentions_unread"] == 2
    assert people["yamada"].post("/notifications/read", {"all": True}).status_code == 204
    assert people["yamada"].get("/home").get_json()["mentions_unread"] == 0


def test_reading_the_channel_reads_the_notices_of_what_was_read(people, soumu):
    """Does reading 総務課 up to a message read its mention notice, but not later ones or other channels'?"""
    other = people["yamada"].post("/channels", {"kind": "public", "name": "防災訓練"}).get_json()["id"]
    assert people["suzuki"].post(f"/channels/{other}/join").status_code == 200
    seen = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "@suzuki 一件目"}).get_json()
    people["yamada"].post(f"/channels/{other}/messages", {"body": "@suzuki 別の部屋"})
    people["yamada"].post(f"/channels/{soumu}/messages", {"body": "@suzuki 二件目"})
    ws = people["suzuki"].socket()
    ws.get_received()
    assert people["suzuki"].post(f"/channels/{soumu}/read", {"last_read_id": seen["id"]}).status_code == 200
    unread = people["suzuki"].get("/notifications?unread=1").get_json()
    assert [n["text"].split()[-1] for n in unread["notifications"]] == ["二件目", "別の部屋"]
    assert unread["unread"] == 2 and people["suzuki"].get("/home").get_json()["mentions_unread"] == 2
    assert frames(ws, "notification:read") == [("notification:read", {"unread": 2})]


def test_an_edit_that_adds_a_mention_tells_only_the_newly_named(people, soumu):
    """Does editing in @sato notify 佐藤 once, and 鈴木 (already mentioned) not a second time?"""
    posted = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "@suzuki 資料です"}).get_json()
    assert (
        people["yamada"].patch(f"/messages/{posted['id']}", {"body": "@suzuki @sato 資料です"}).status_code
        == 200
    )
    assert (
        people["yamada"].patch(f"/messages/{posted['id']}", {"body": "@sato @suzuki 資料です"}).status_code
        == 200
    )
    assert [n["kind"] for n in notices(people["suzuki"])] == ["mention"]
    assert [n["text"] for n in notices(people["sato"])] == [
        "山田 太郎さんがあなたをメンションしました：@suzuki @sato 資料です"
    ]
