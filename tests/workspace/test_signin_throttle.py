"""The sign-in form and POST /api/v1/auth/token share one limit, and the owner is not locked out
from their own PC by someone guessing elsewhere."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, csrf_from


def _form(client, username: str, password: str, address: str = "127.0.0.1"):
    page = client.get("/login", environ_base={"REMOTE_ADDR": address})
    return client.post(
        "/login",
        data={"username": username, "password": password,
              "csrf_token": csrf_from(page.get_data(as_text=True))},
        environ_base={"REMOTE_ADDR": address},
    )


def _api(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        "/api/v1/auth/token",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_failures_through_both_doors_count_against_one_account_limit(app, village):
    attacker = app.test_client()
    statuses = []
    for i in range(5):
        door = _form if i % 2 else _api
        statuses.append(door(attacker, "yamada", f"guess-{i}").status_code)
    assert statuses == [401] * 5
    # The limit (5) is spent: neither door tries a sixth password, even the right one.
    assert _api(attacker, "yamada", PASSWORD).status_code == 429
    assert _form(app.test_client(), "yamada", PASSWORD).status_code == 429


@pytest.mark.parametrize("app_config", [{"LOGIN_LIMIT_ADDRESS": "6 per 5 minutes"}], indirect=True)
def test_failures_through_both_doors_count_against_one_address_limit(app, village, app_config):
    client = app.test_client()
    for i in range(6):
        door = _form if i % 2 else _api
        assert door(client, f"ghost{i}", "bad").status_code == 401
    assert _api(client, "suzuki", PASSWORD).status_code == 429
    assert _form(client, "tanaka", PASSWORD).status_code == 429
    # Another address is not affected.
    assert _api(app.test_client(), "suzuki", PASSWORD, address="10.0.0.2").status_code == 201


def test_guessing_elsewhere_does_not_lock_the_owner_out_of_their_own_pc(app, village):
    owner, attacker, stranger = app.test_client(), app.test_client(), app.test_client()
    # Monday: the owner signs in at their desk (10.1.1.5); that address is now known for the account.
    assert _form(owner, "yamada", PASSWORD, address="10.1.1.5").status_code == 302
    owner.post("/logout", data={"csrf_token": csrf_from(owner.get("/").get_data(as_text=True))})
    # Someone tries passwords from another PC until the account is throttled there.
    for i in range(5):
        assert _api(attacker, "yamada", f"guess-{i}", address="10.1.1.99").status_code == 401
    assert _api(attacker, "yamada", PASSWORD, address="10.1.1.99").status_code == 429
    # A third, unknown address shares the attacker's bucket …
    assert _form(stranger, "yamada", PASSWORD, address="10.1.1.77").status_code == 429
    # … but the owner at their own PC still signs in.
    assert _form(owner, "yamada", PASSWORD, address="10.1.1.5").status_code == 302


def test_guessing_from_the_owners_own_address_is_still_limited(app, village):
    owner = app.test_client()
    assert _form(owner, "yamada", PASSWORD, address="10.1.1.5").status_code == 302
    intruder = app.test_client()
    for i in range(5):
        assert _api(intruder, "yamada", f"guess-{i}", address="10.1.1.5").status_code == 401
    assert _api(intruder, "yamada", PASSWORD, address="10.1.1.5").status_code == 429


@pytest.mark.parametrize("app_config", [{"KNOWN_ADDRESS_DAYS": 0}], indirect=True)
def test_the_known_address_bucket_can_be_turned_off(app, village, app_config):
    owner, attacker = app.test_client(), app.test_client()
    assert _form(owner, "yamada", PASSWORD, address="10.1.1.5").status_code == 302
    for i in range(5):
        _api(attacker, "yamada", f"guess-{i}", address="10.1.1.99")
    assert _api(app.test_client(), "yamada", PASSWORD, address="10.1.1.5").status_code == 429


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})
