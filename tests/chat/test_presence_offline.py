"""Offline presence: announced when a person's last socket goes, not while another tab remains."""

from __future__ import annotations

from tests.chat.conftest import connect, frames, isolated


def _offline(ws) -> list:
    return [p for _name, p in frames(ws, "presence") if p["status"] == "offline"]


def test_offline_is_announced_only_when_the_last_socket_disconnects(people):
    first, second, watcher = connect(people, "yamada", "yamada", "tanaka")
    isolated(first.disconnect)
    assert _offline(watcher) == []  # the second tab is still open
    assert people["tanaka"].get("/presence").get_json()["online"] == ["tanaka", "yamada"]
    isolated(second.disconnect)
    assert _offline(watcher) == [{"username": "yamada", "status": "offline"}]
    assert people["tanaka"].get("/presence").get_json()["online"] == ["tanaka"]


def test_offline_reaches_people_of_other_departments_too(people):
    leaving, same_dept, other_dept = connect(people, "suzuki", "sato", "tanaka")
    isolated(leaving.disconnect)
    for ws in (same_dept, other_dept):
        assert _offline(ws) == [{"username": "suzuki", "status": "offline"}]


def test_a_deactivated_persons_sockets_end_with_offline(people):
    from workspace import directory

    _ws, watcher = connect(people, "yamada", "tanaka")
    directory.set_active("yamada", False, actor="admin")
    assert {"username": "yamada", "status": "offline"} in _offline(watcher)


def test_disconnect_of_a_socket_never_connected_to_chat_rooms_is_harmless(people):
    (ws,) = connect(people, "tanaka")
    isolated(ws.disconnect)
    assert people["yamada"].get("/presence").get_json()["online"] == []
