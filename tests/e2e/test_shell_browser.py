"""Browser journey: sign in → the home page shows my department; accessible; no outside requests."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSWORD, axe_violations
from workspace import db

pytestmark = pytest.mark.browser


def test_sign_in_by_keyboard_and_see_my_department(live_server, page):
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if urlsplit(r.url).hostname != "127.0.0.1" else None)
    page.goto(live_server.url + "/")
    assert page.url.startswith(live_server.url + "/login")
    assert axe_violations(page) == []
    page.get_by_label("ユーザー名").fill("yamada")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_label("パスワード").press("Enter")
    page.wait_for_url(live_server.url + "/")
    assert page.locator("#my-department").inner_text() == "総務課 総務係"
    assert page.locator("header").get_by_text("山田 太郎").is_visible()
    assert "令和" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    # The page's Socket.IO client connects to our own server only.
    page.wait_for_function("() => Boolean(window.workspace && window.workspace.socket?.connected)")
    assert outside == []


def test_wrong_password_shows_japanese_error(live_server, page):
    page.goto(live_server.url + "/login")
    page.get_by_label("ユーザー名").fill("yamada")
    page.get_by_label("パスワード").fill("wrong-password")
    page.get_by_role("button", name="ログイン").click()
    assert page.get_by_role("alert").inner_text() == "ユーザー名またはパスワードが正しくありません。"
    assert axe_violations(page) == []


def test_phone_sized_home_page_is_usable(live_server, browser):
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.get_by_label("ユーザー名").fill("sato")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live_server.url + "/")
    nav = page.get_by_role("navigation", name="メインメニュー")
    for label in ("チャット", "決裁", "文書", "検索"):
        assert nav.get_by_role("link", name=label).is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert axe_violations(page) == []
    context.close()


def test_notification_badge_is_fed_by_the_hub(app, village, tmp_path, redis_url, page):
    """Does a notice written by another process reach the open page's 通知 link through Redis?"""
    from tests.conftest import LiveServer, free_port, make_app, server_env
    from workspace import notifications

    server = LiveServer(server_env(app, WORKSPACE_REDIS_URL=redis_url), free_port(), tmp_path / "server.log")
    try:
        page.goto(server.url + "/login")
        page.get_by_label("ユーザー名").fill("yamada")
        page.get_by_label("パスワード").fill(PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url(server.url + "/")
        header = page.get_by_role("banner")
        assert header.get_by_role("link", name="通知", exact=True).is_visible()
        assert page.locator("#notice-count").is_hidden()
        page.wait_for_function("() => Boolean(window.workspace && window.workspace.socket.connected)")
        emitter = make_app(app.config["DATABASE_URL"], tmp_path / "emitter", REDIS_URL=redis_url)
        with emitter.app_context():
            notifications.notify([village["yamada"].id], "approval", "approval:1:v1", "備品購入", "/")
            db.session().commit()
        header.get_by_role("link", name="通知 1件").wait_for()
        assert page.locator("#notice-count").inner_text() == "1"
        assert "備品購入" in page.locator("#live-region").inner_text()
    finally:
        server.stop()
