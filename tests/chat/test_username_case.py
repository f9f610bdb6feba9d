"""User names ignore case (migration 0004_username_nocase): a member named twice in two spellings is one
member, and a non-string name is a 400, not an SQL error."""

from __future__ import annotations


def test_one_person_named_in_two_cases_is_one_member(people):
    body = {"name": "防災", "kind": "private", "members": ["tanaka", "TANAKA"]}
    created = people["yamada"].post("/channels", body)
    assert created.status_code == 201, created.get_json()
    members = people["yamada"].get(f"/channels/{created.get_json()['id']}").get_json()["members"]
    assert sorted(m["username"] for m in members) == ["tanaka", "yamada"]


def test_a_number_as_a_member_is_a_400(people):
    response = people["yamada"].post("/channels", {"name": "防災", "kind": "private", "members": [5]})
    assert response.status_code == 400
