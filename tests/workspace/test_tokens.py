"""Personal API tokens and /api/v1/me."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.conftest import PASSWORD, api_token, csrf_from, login
from workspace import db
from workspace.models import ApiToken, AuditEntry


def test_token_exchange_returns_token_and_user(client, village):
    response = client.post("/api/v1/auth/token", json={"username": "suzuki", "password": PASSWORD})
    assert response.status_code == 201
    body = response.get_json()
    assert body["token"].startswith("wst_")
    assert body["user"]["department"] == {"code": "01", "name": "総務課"}


def test_me_with_bearer_token(client, village):
    token = api_token(client, "suzuki")
    body = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body == {
        "username": "suzuki",
        "display_name": "鈴木 花子",
        "display_name_kana": None,
        "department": {"code": "01", "name": "総務課"},
        "section": {"code": "0101", "name": "総務係"},
        "title": "係長",
        "roles": [],
    }


def test_token_is_stored_hashed(client, village):
    token = api_token(client, "suzuki")
    stored = db.session().execute(select(ApiToken.token_hash)).scalars().all()
    assert token not in stored and len(stored[0]) == 64


def test_revoked_token_gets_401(client, village):
    token = api_token(client, "suzuki")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_refused_token_is_audited(client, village):
    client.get("/api/v1/me", headers={"Authorization": "Bearer wst_not-a-real-token"})
    actions = db.session().execute(select(AuditEntry.action)).scalars().all()
    assert "denied.token" in actions


def test_expired_token_gets_401(client, village):
    token = api_token(client, "suzuki")
    row = db.session().execute(select(ApiToken)).unique().scalar_one()
    row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session().commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_bad_credentials_same_body_whether_user_exists(client, village):
    a = client.post("/api/v1/auth/token", json={"username": "suzuki", "password": "wrong-one"})
    b = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "wrong-one"})
    assert a.status_code == b.status_code == 401
    assert a.get_json() == b.get_json()


def test_me_without_credentials_is_401_json(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_settings_page_lists_and_revokes_tokens(client, village):
    login(client, "yamada")
    page = client.get("/settings").get_data(as_text=True)
    created = client.post("/settings", data={"name": "RPA 連携", "csrf_token": csrf_from(page)})
    html = created.get_data(as_text=True)
    assert "RPA 連携" in html and 'id="new-token"' in html
    row = db.session().execute(select(ApiToken)).unique().scalar_one()
    client.post(f"/settings/tokens/{row.id}/revoke", data={"csrf_token": csrf_from(html)})
    db.session().expire_all()
    assert db.session().get(ApiToken, row.id).revoked_at is not None


def test_cannot_revoke_someone_elses_token(client, village):
    api_token(client, "suzuki")
    other = db.session().execute(select(ApiToken)).unique().scalar_one()
    login(client, "yamada")
    html = client.get("/settings").get_data(as_text=True)
    client.post(f"/settings/tokens/{other.id}/revoke", data={"csrf_token": csrf_from(html)})
    db.session().expire_all()
    assert db.session().get(ApiToken, other.id).revoked_at is None


def test_session_api_write_needs_csrf_header(client, village):
    login(client, "yamada")
    response = client.delete("/api/v1/auth/token")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf_failed"


def test_openapi_document_lists_core_paths(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/auth/token", "/api/v1/me"} <= set(spec["paths"])
    assert "401" in {str(k) for k in spec["paths"]["/api/v1/auth/token"]["post"]["responses"]}


def test_healthz_reports_database_and_directory(client):
    body = client.get("/healthz").get_json()
    assert body == {"status": "ok", "database": "ok", "directory": "ok"}
