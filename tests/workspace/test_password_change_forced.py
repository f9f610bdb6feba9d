"""The forced change after an administrator's reset (users.must_change_password): after sign-in the person
is held at the change form; every other page redirects there and every other API call answers 403
password_change_required (a bearer token too), except signing out and the change itself; then the flag
clears and everything opens again."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD, api_token, csrf_from, login
from workspace import db, directory

NEW = "aki-no-yuuhi-42"


def _flag(username: str) -> None:
    user = directory.get_user(username)
    user.must_change_password = True
    db.session().commit()


def test_sign_in_leads_to_the_form_and_every_page_is_held_there(village: dict[str, Any], client) -> None:
    _flag("yamada")
    signed_in = login(client, "yamada")
    assert signed_in.status_code == 302
    home = client.get(signed_in.headers["Location"])
    assert home.status_code == 302 and home.headers["Location"].endswith("/settings/password")
    form = client.get("/settings/password")
    html = form.get_data(as_text=True)
    assert form.status_code == 200
    assert "新しいパスワードを決めてください" in html and 'id="password-current"' in html
    for path in ("/", "/settings", "/notifications", "/chat/", "/approvals/", "/admin"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].endswith("/settings/password"), path
    # A form elsewhere is held too (here: creating a token on 設定).
    made = client.post("/settings", data={"name": "RPA", "csrf_token": csrf_from(html)})
    assert made.status_code == 302 and made.headers["Location"].endswith("/settings/password")
    assert client.get("/static/css/app.css").status_code == 200


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/me/preferences"),
        ("PUT", "/api/v1/me/preferences"),
        ("GET", "/api/v1/notifications"),
        ("GET", "/api/v1/home"),
        ("GET", "/api/v1/channels"),
        ("GET", "/api/v1/approvals/inbox"),
        ("GET", "/api/v1/admin/jobs/1"),
    ],
)
def test_a_flagged_persons_token_reads_nothing(village, client, method: str, path: str) -> None:
    """Is every API call of a flagged person's bearer token answered 403 password_change_required?"""
    token = api_token(client, "yamada")  # a token made before the reset, or after it: the same
    _flag("yamada")
    answer = client.open(
        path, method=method, json={"mentions": False}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 403, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert error["code"] == "password_change_required" and "パスワードの変更が必要" in error["message"]


def test_the_session_api_is_held_too(village, client) -> None:
    _flag("yamada")
    login(client, "yamada")
    answer = client.get("/api/v1/me")
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "password_change_required"


def test_the_change_and_sign_out_stay_open_and_the_change_clears_the_flag(village, client) -> None:
    token = api_token(client, "yamada")
    headers = {"Authorization": f"Bearer {token}"}
    _flag("yamada")
    answer = client.post("/api/v1/me/password", json={"current": PASSWORD, "new": NEW}, headers=headers)
    assert answer.status_code == 204
    db.session().expire_all()
    assert directory.get_user("yamada").must_change_password is False
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204


def test_the_page_change_clears_the_flag_and_opens_the_home_page(village, client) -> None:
    _flag("yamada")
    login(client, "yamada")
    html = client.get("/settings/password").get_data(as_text=True)
    weak = client.post(
        "/settings/password",
        data={
            "current": PASSWORD,
            "new": "qwertyuiop",
            "confirm": "qwertyuiop",
            "csrf_token": csrf_from(html),
        },
    )
    assert weak.status_code == 422
    assert "新しいパスワードを決めてください" in weak.get_data(as_text=True)  # still the forced page
    done = client.post(
        "/settings/password",
        data={"current": PASSWORD, "new": NEW, "confirm": NEW, "csrf_token": csrf_from(html)},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/")
    assert client.get("/").status_code == 200
    assert client.get("/settings/password").status_code == 302  # the form lives on 設定 again


def test_sign_out_is_allowed(village, client) -> None:
    _flag("yamada")
    login(client, "yamada")
    html = client.get("/settings/password").get_data(as_text=True)
    out = client.post("/logout", data={"csrf_token": csrf_from(html)})
    assert out.status_code == 302 and "/login" in out.headers["Location"]
    assert client.get("/").status_code == 302 and "/login" in client.get("/").headers["Location"]


def test_people_without_the_flag_are_not_held(village, client) -> None:
    _flag("suzuki")
    login(client, "yamada")
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200


def test_a_flagged_person_gets_no_socket_until_the_change(app, village, client) -> None:
    """Is the real-time link refused while the change is owed (no chat by Socket.IO around the gate)?"""
    from workspace.realtime import socketio

    token = api_token(client, "yamada")
    _flag("yamada")
    assert not socketio.test_client(app, auth={"token": token}).is_connected()
    client.post(
        "/api/v1/me/password",
        json={"current": PASSWORD, "new": NEW},
        headers={"Authorization": f"Bearer {token}"},
    )
    ws = socketio.test_client(app, auth={"token": token})
    assert ws.is_connected()
    ws.disconnect()
