"""Sign-in through the form: sessions, logout, CSRF, deactivation."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import PASSWORD, csrf_from, login
from workspace import db, directory
from workspace.models import AuditEntry, UserSession


def test_login_page_has_labelled_japanese_fields(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert '<label for="username">ユーザー名</label>' in html
    assert '<label for="password">パスワード</label>' in html
    assert ">ログイン</button>" in html


def test_local_user_signs_in_and_home_shows_department(client, village):
    response = login(client, "yamada")
    assert response.status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert "山田 太郎" in html
    assert '<dd id="my-department">総務課 総務係</dd>' in html
    assert "令和" in html and "年度" in html


def test_wrong_password_and_unknown_user_get_the_same_answer(client, village):
    wrong = login(client, "yamada", "not-the-password")
    unknown = login(client, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    message = "ユーザー名またはパスワードが正しくありません。"
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_session_cookie_changes_at_login_and_is_httponly_lax(client, village):
    client.get("/login")
    before = client.get_cookie("workspace_session").value
    response = login(client, "yamada")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get_cookie("workspace_session").value != before


def test_cookie_is_secure_over_https(app, village):
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost")
    # Over HTTPS Flask-WTF also insists on a same-site Referer, as a browser sends.
    response = client.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
        data={
            "username": "yamada",
            "password": PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_logout_revokes_the_server_side_session(app, client, village):
    login(client, "yamada")
    stolen = client.get_cookie("workspace_session").value
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    # Replaying the cookie captured before logout must not work.
    replay = app.test_client()
    replay.set_cookie("workspace_session", stolen)
    assert replay.get("/").status_code == 302
    rows = db.session().execute(select(UserSession)).scalars().all()
    assert rows and all(r.revoked_at is not None for r in rows)


def test_wrong_csrf_token_is_refused_and_logged(client, village):
    client.get("/login")
    response = client.post(
        "/login", data={"username": "yamada", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert "ページを再読み込み" in response.get_data(as_text=True)
    actions = db.session().execute(select(AuditEntry.action)).scalars().all()
    assert "denied.csrf" in actions
    assert client.get("/").status_code == 302  # still not signed in


def test_deactivated_user_loses_session_at_once(client, village):
    login(client, "yamada")
    assert client.get("/").status_code == 200
    directory.set_active("yamada", False, actor="test")
    assert client.get("/").status_code == 302
    assert login(client, "yamada").status_code == 401


def test_open_redirect_after_login_is_refused(client, village):
    page = client.get("/login?next=//evil.example/")
    response = client.post(
        "/login?next=//evil.example/",
        data={
            "username": "yamada",
            "password": PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert response.headers["Location"] == "/"


def test_security_headers_include_csp(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_every_asset_is_served_locally(client, village):
    login(client, "yamada")
    html = client.get("/").get_data(as_text=True)
    assert "http://" not in html.replace("http://localhost", "") and "https://" not in html
    assert client.get("/static/vendor/socket.io.min.js").status_code == 200


def test_reenabling_a_user_tells_the_domains(app, village):
    from workspace import signals

    seen: list[dict] = []
    receiver = lambda _sender, **kw: seen.append(kw)  # noqa: E731
    signals.user_changed.connect(receiver)
    try:
        directory.set_active("yamada", False, actor="test")
        directory.set_active("yamada", True, actor="test")
    finally:
        signals.user_changed.disconnect(receiver)
    assert seen == [{"user_id": village["yamada"].id, "created": False, "department_changed": True}]


def test_home_greets_the_person_with_a_greeting_before_the_comma(client, village):
    """Does the home page say 「おはようございます、山田 太郎さん」 (by the hour), never 「、山田…」?"""
    import re

    login(client, "yamada")
    html = client.get("/").get_data(as_text=True)
    heading = re.sub(r"<[^>]+>", "", re.search(r"<h1>(.*?)</h1>", html).group(1))
    assert re.fullmatch(r"(おはようございます|こんにちは|こんばんは)、山田 太郎さん", heading), heading


def test_templates_fail_on_a_variable_the_view_never_passes(app):
    """Is a missing template variable an error in tests (StrictUndefined), not a blank?"""
    import jinja2
    import pytest

    with pytest.raises(jinja2.UndefinedError):
        app.jinja_env.from_string("{{ greeting }}、さん").render()


def test_greeting_follows_the_hour_in_japan():
    import datetime as dt

    from workspace import calendar

    def at(hour):
        return dt.datetime(2026, 12, 3, hour, 0, tzinfo=calendar.JST)

    assert calendar.greeting(at(8)) == "おはようございます"
    assert calendar.greeting(at(13)) == "こんにちは"
    assert calendar.greeting(at(19)) == "こんばんは"
    eight_in_japan = dt.datetime(2026, 12, 2, 23, 0, tzinfo=dt.UTC)
    assert calendar.greeting(eight_in_japan) == "おはようございます"
