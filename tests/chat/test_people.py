"""Channels and people: 説明, browsing public channels, group DMs, and @mentions written as 氏名."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from chat import home as chat_home
from chat import mentions, messages
from tests.chat.conftest import Person, connect, frames
from tests.conftest import PASSWORD
from workspace import db, directory


@pytest.fixture
def soumu(people: dict[str, Person]) -> int:
    return people["sato"].channel_id("総務課")


def _mentioned(sockets: dict[str, Any]) -> set[str]:
    return {name for name, ws in sockets.items() if frames(ws, "notification:new")}


@pytest.mark.parametrize(
    "body",
    ["@鈴木 花子さん、確認お願いします", "@鈴木花子 さん確認を", "＠鈴木　花子さん", "@suzuki. 確認を"],
)
def test_a_mention_by_name_or_username_reaches_the_member(
    people: dict[str, Person], soumu: int, body: str
) -> None:
    """Does @氏名 (any space, or none; ＠ too) or @username, even before a period, notify 鈴木 花子 only?"""
    sockets = dict(
        zip(("suzuki", "sato", "tanaka"), connect(people, "suzuki", "sato", "tanaka"), strict=True)
    )
    assert people["yamada"].post(f"/channels/{soumu}/messages", {"body": body}).status_code == 201
    assert _mentioned(sockets) == {"suzuki"}


def test_the_longest_name_wins_and_outsiders_are_never_named(people: dict[str, Person], soumu: int) -> None:
    """Does @鈴木 花子二 name only 鈴木 花子二 (not 鈴木 花子), and 田中 (no member) hear nothing?"""
    directory.add_local_user("suzuki2", "鈴木 花子二", PASSWORD, department_code="01")
    people["suzuki2"] = Person(people["sato"].app, people["sato"].client, "suzuki2")
    sockets = dict(
        zip(("suzuki", "suzuki2", "tanaka"), connect(people, "suzuki", "suzuki2", "tanaka"), strict=True)
    )
    people["yamada"].post(f"/channels/{soumu}/messages", {"body": "@鈴木 花子二さんと@田中 誠さんへ"})
    assert _mentioned(sockets) == {"suzuki2"}
    people["yamada"].post(f"/channels/{soumu}/messages", {"body": "@here 会議です"})
    assert _mentioned(sockets) == {"suzuki", "suzuki2"}


def test_the_home_count_sees_mentions_by_name(people: dict[str, Person], soumu: int) -> None:
    """Does 今日の仕事 count an unread @鈴木 花子 as a mention of 鈴木 花子?"""
    people["yamada"].post(f"/channels/{soumu}/messages", {"body": "@鈴木 花子さん、明日の件"})
    people["yamada"].post(f"/channels/{soumu}/messages", {"body": "鈴木 花子さんの件（メンションではない）"})
    assert chat_home.today(directory.get_user("suzuki"))["mentions_unread"] == 1
    assert messages.mentions_me(directory.get_user("suzuki"), "メール suzuki@example.jp") is False


def test_completion_finds_members_by_kana_and_says_what_to_insert(
    people: dict[str, Person], soumu: int
) -> None:
    """Does @すずき complete to 鈴木 花子 (not me, not outsiders), inserting @username only for homonyms?"""
    directory.update_local_user("suzuki", actor="test", display_name_kana="すずき はなこ")
    directory.add_local_user(
        "suzuki.t", "鈴木 一", PASSWORD, department_code="02", display_name_kana="すずき はじめ"
    )
    found = people["yamada"].get(f"/channels/{soumu}/members?q=スズキ").get_json()["users"]
    assert [(u["display_name"], u["mention"]) for u in found] == [("鈴木 花子", "@鈴木 花子")]
    assert found[0]["department"] == {"code": "01", "name": "総務課"} and found[0]["title"] == "係長"
    everyone = people["yamada"].get(f"/channels/{soumu}/members").get_json()["users"]
    assert "yamada" not in {u["username"] for u in everyone}
    directory.add_local_user("suzuki.h", "鈴木 花子", PASSWORD, department_code="01")
    found = people["yamada"].get(f"/channels/{soumu}/members?q=鈴木").get_json()["users"]
    assert {u["mention"] for u in found} == {"@suzuki", "@suzuki.h"}
    assert people["yamada"].get(f"/channels/{soumu}/members?limit=0").status_code == 400
    assert people["tanaka"].get(f"/channels/{soumu}/members?q=a").status_code == 403


def test_a_channel_has_a_description_shown_when_browsing(people: dict[str, Person]) -> None:
    """Is a public channel's 説明 and member count listed for those who may join, and checked on create?"""
    made = people["sato"].post(
        "/channels",
        {"kind": "public", "name": "防災訓練", "description": "11月の防災訓練の準備", "members": ["suzuki"]},
    )
    assert made.status_code == 201 and made.get_json()["description"] == "11月の防災訓練の準備"
    joinable = people["yamada"].get("/channels?scope=joinable").get_json()["channels"]
    assert [(c["name"], c["description"], c["member_count"]) for c in joinable] == [
        ("防災訓練", "11月の防災訓練の準備", 2)
    ]
    too_long = people["sato"].post("/channels", {"kind": "private", "name": "x", "description": "あ" * 251})
    assert too_long.status_code == 422 and "説明は250文字以内" in too_long.get_json()["error"]["message"]
    wrong = people["sato"].post("/channels", {"kind": "private", "name": "x", "description": 5})
    assert wrong.status_code == 400


def test_a_group_dm_is_for_a_few_people(app: Any, people: dict[str, Person]) -> None:
    """Is a group DM of more than 20 refused in Japanese (its key must fit), and one of 20 created once?"""
    names = [f"staff{i:02d}" for i in range(20)]
    for name in names:
        directory.add_local_user(name, f"職員 {name}", PASSWORD, department_code="02")
    db.session().commit()
    refused = people["sato"].post("/channels", {"kind": "direct", "members": names})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "too_many_members"
    assert "非公開チャンネル" in refused.get_json()["error"]["message"]
    created = people["sato"].post("/channels", {"kind": "direct", "members": names[:19]})
    assert created.status_code == 201
    again = people["sato"].post("/channels", {"kind": "direct", "members": list(reversed(names[:19]))})
    assert again.status_code == 200 and again.get_json()["id"] == created.get_json()["id"]


def test_find_reads_names_by_the_documented_rules() -> None:
    """Are names read with or without their space, the longest first, and never inside a mail address?"""
    people = [
        mentions.Candidate(1, "kato", "加藤 浩"),
        mentions.Candidate(2, "kato2", "加藤 浩二"),
        mentions.Candidate(3, "ito", "伊藤 美咲"),
    ]
    assert mentions.find("@加藤 浩二さん", people).user_ids == {2}
    assert mentions.find("@加藤浩さん", people).user_ids == {1}
    assert mentions.find("x@kato.jp", people).user_ids == set()
    assert mentions.find("@kato と＠伊藤　美咲", people).user_ids == {1, 3}
    assert mentions.find("@all", people).channel_wide is True


def test_the_channel_table_has_the_description_column_the_model_declares(app: Any) -> None:
    """Do migration 0003_chat_channel_description and the Channel model agree?"""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from workspace.db import Base

    with db.engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert not [d for d in diff if "chat_channels" in repr(d)]
    row = db.session().execute(text("SELECT description FROM chat_channels LIMIT 1")).all()
    assert row == [] or row[0][0] == ""
