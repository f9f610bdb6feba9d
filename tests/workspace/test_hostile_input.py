"""Bad input gets the documented status, is logged safely, and changes nothing."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, csrf_from
from workspace import db
from workspace.models import ApiToken, AuditEntry, UserSession

HOSTILE_USERNAMES = [
    "*",
    "x)(|(uid=*",
    "admin)(&)",
    "yamada\x00",
    "a" * 10_000,
    "yamada\r\nsignin.success admin",
    "admin\nFAKE LOG LINE",
]


@pytest.mark.parametrize("username", HOSTILE_USERNAMES, ids=range(len(HOSTILE_USERNAMES)))
def test_hostile_username_via_api_is_401_and_changes_nothing(client, village, username):
    response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"
    assert db.session().execute(select(func.count()).select_from(ApiToken)).scalar() == 0


@pytest.mark.parametrize("username", HOSTILE_USERNAMES, ids=range(len(HOSTILE_USERNAMES)))
def test_hostile_username_via_form_is_401(client, village, username):
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 401
    assert db.session().execute(select(func.count()).select_from(UserSession)).scalar() == 0


def test_crlf_in_username_cannot_forge_audit_or_log_lines(client, village, caplog):
    caplog.set_level(logging.DEBUG)
    client.post("/api/v1/auth/token", json={"username": "x\r\nsignin.success admin", "password": "p"})
    entry = db.session().execute(select(AuditEntry).where(AuditEntry.action == "signin.failure")).scalar_one()
    assert "\n" not in entry.actor and "\r" not in entry.actor
    assert "\\x0d\\x0a" in entry.actor
    assert all("\n" not in record.getMessage() for record in caplog.records)


def test_empty_password_is_refused_for_an_existing_user(client, village):
    response = client.post("/api/v1/auth/token", json={"username": "yamada", "password": ""})
    assert response.status_code == 401


@pytest.mark.parametrize("body", ["not json", "[1,2]", '{"username": 5, "password": []}'])
def test_malformed_token_request_is_4xx_not_500(client, body):
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert response.status_code in (400, 401)
    assert "error" in response.get_json()


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_repeated_failures_are_throttled_per_account(client, village):
    for _ in range(5):
        assert (
            client.post("/api/v1/auth/token", json={"username": "yamada", "password": "bad"}).status_code
            == 401
        )
    # Even the right password is refused while the account is throttled.
    response = client.post("/api/v1/auth/token", json={"username": "yamada", "password": PASSWORD})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "throttled"
    # Another account from the same address is not locked by the account limit.
    assert (
        client.post("/api/v1/auth/token", json={"username": "suzuki", "password": PASSWORD}).status_code
        == 201
    )
    actions = db.session().execute(select(AuditEntry.action)).scalars().all()
    assert "denied.signin.throttled" in actions


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_config", [{"LOGIN_LIMIT_ADDRESS": "3 per 5 minutes"}], indirect=True)
def test_address_limit_is_not_fooled_by_x_forwarded_for(client, village, app_config):
    for i in range(3):
        client.post(
            "/api/v1/auth/token",
            json={"username": f"ghost{i}", "password": "bad"},
            headers={"X-Forwarded-For": f"10.0.0.{i}"},
        )
    response = client.post(
        "/api/v1/auth/token",
        json={"username": "suzuki", "password": PASSWORD},
        headers={"X-Forwarded-For": "10.9.9.9"},
    )
    assert response.status_code == 429


@pytest.mark.parametrize(
    "app_config", [{"LOGIN_LIMIT_ADDRESS": "3 per 5 minutes", "TRUSTED_PROXIES": 1}], indirect=True
)
def test_address_limit_uses_forwarded_address_behind_a_trusted_proxy(client, village, app_config):
    for i in range(3):
        client.post(
            "/api/v1/auth/token",
            json={"username": f"ghost{i}", "password": "bad"},
            headers={"X-Forwarded-For": "10.0.0.1"},
        )
    response = client.post(
        "/api/v1/auth/token",
        json={"username": "suzuki", "password": PASSWORD},
        headers={"X-Forwarded-For": "10.0.0.2"},
    )
    assert response.status_code == 201
