"""管理 › 職員 in the browser: an administrator adds a person (a wrong 読み is refused next to its field),
sees the one-time password once, finds the person by 読み and disables them; a 主事 sees no 管理 link and
gets 403 by URL. At 1366×900 and 390×844, with zero axe-core violations on every page."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import axe_violations, sign_in_page
from workspace import ROOT, db, directory

SHOTS = Path("/tmp/shots-users")
DOCS_IMG = Path(ROOT) / "docs" / "img"
# The guide's screenshots are rewritten only when asked (a test run must not change tracked files).
DOC_SHOTS = os.environ.get("WORKSPACE_DOC_SHOTS") == "1"
SIZES = [(1366, 900), (390, 844)]


def _shot(page: Any, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def _no_axe(page: Any) -> None:
    violations = axe_violations(page)
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]


@pytest.mark.parametrize("width,height", SIZES)
def test_an_administrator_adds_finds_and_disables_a_person(
    village: dict[str, Any], live_server: Any, page: Any, width: int, height: int
) -> None:
    """Can the administrator add 加藤 浩, hand over his one-time password, find him by 読み, disable him?"""
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "admin")
    page.get_by_role("link", name="管理", exact=True).click()
    page.get_by_role("link", name="職員", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("職員")
    table = page.get_by_role("table", name="職員の一覧")
    expect(table.get_by_role("link", name="山田 太郎")).to_be_visible()
    expect(table).to_contain_text("yamada")
    _no_axe(page)
    _shot(page, "list", width)

    page.get_by_role("link", name="職員を追加").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("職員の追加")
    page.get_by_label("ユーザー名").fill("kato")
    page.get_by_label("氏名").fill("加藤 浩")
    page.get_by_label("読み（ひらがなかカタカナ）").fill("kato")
    page.get_by_label("所属（課・係）").select_option(label="総務課　総務係")
    page.get_by_label("役職").fill("主事")
    page.get_by_label("メールアドレス（任意）").fill("kato@vill.example.lg.jp")
    page.get_by_role("button", name="追加して仮パスワードを発行").click()
    kana = page.get_by_label("読み（ひらがなかカタカナ）")
    expect(kana).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#display_name_kana-error")).to_have_text(
        "読みはひらがなかカタカナで入力してください（例：かとう ひろし）。"
    )
    expect(page.get_by_role("alert")).to_contain_text("入力内容を確認してください")
    expect(page.get_by_label("氏名")).to_have_value("加藤 浩")  # what was typed stays
    db.end_read()
    assert directory.get_user("kato") is None
    _no_axe(page)
    _shot(page, "refused", width)

    kana.fill("かとう ひろし")
    page.get_by_role("button", name="追加して仮パスワードを発行").click()
    created = page.get_by_role("status").filter(has_text="加藤 浩さんを追加しました")
    expect(created).to_be_visible()
    secret = page.locator("#temporary-password").inner_text()
    assert len(secret) == 14 and secret.count("-") == 2
    expect(created).to_contain_text("二度と表示されません")
    _no_axe(page)
    _shot(page, "created", width)

    page.get_by_role("link", name="職員の一覧へ戻る").click()
    page.get_by_label("氏名・読み・ユーザー名・課・役職で探す").fill("カトウ")
    page.get_by_role("button", name="検索").click()
    expect(page.locator("#user-count")).to_contain_text("1人")
    rows = page.get_by_role("table", name="職員の一覧").get_by_role("row")
    expect(rows).to_have_count(2)  # the header and 加藤 浩
    expect(rows.nth(1)).to_contain_text("総務課　総務係")
    expect(rows.nth(1)).to_contain_text("仮パスワード")
    page.get_by_role("link", name="加藤 浩").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("加藤 浩")
    expect(page.locator("#temporary-password")).to_have_count(0)  # shown once, never again
    _no_axe(page)
    _shot(page, "person", width)

    page.get_by_role("button", name="無効にする").click()
    expect(page.get_by_role("status").filter(has_text="加藤 浩さんを無効にしました")).to_be_visible()
    expect(page.locator("#person-state")).to_contain_text("無効（サインインできません）")
    expect(page.get_by_role("button", name="有効にする")).to_be_visible()
    db.end_read()
    assert directory.get_user("kato").active is False
    page.get_by_role("link", name="職員の一覧へ戻る").click()
    page.get_by_label("状態").select_option(label="無効")
    page.get_by_role("button", name="検索").click()
    expect(page.get_by_role("table", name="職員の一覧").get_by_role("link", name="加藤 浩")).to_be_visible()
    _no_axe(page)
    if width == 1366 and DOC_SHOTS:
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        page.goto(live_server.url + "/admin/users")
        page.screenshot(path=str(DOCS_IMG / "admin-users-list.png"))


@pytest.mark.parametrize("width,height", SIZES)
def test_a_clerk_sees_no_link_and_gets_403(
    village: dict[str, Any], live_server: Any, page: Any, width: int, height: int
) -> None:
    """Does 山田 (主事) see no 管理 link, and is /admin/users refused with a Japanese 403 page?"""
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, live_server.url, "yamada")
    expect(page.get_by_role("link", name="管理", exact=True)).to_have_count(0)
    for path in ("/admin/users", "/admin/users/new", f"/admin/users/{village['tanaka'].id}"):
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)
    _no_axe(page)
    _shot(page, "clerk-403", width)


@pytest.fixture
def ldap_server(request: Any, app: Any, tmp_path: Path) -> Any:
    """The real server on the LDAP backend (the private slapd), for the 今すぐ同期 journey."""
    from tests.conftest import LiveServer, free_port, server_env, wait_for

    slapd = request.getfixturevalue("slapd")
    extra = {f"WORKSPACE_{key}": value for key, value in slapd.config().items()}
    server = LiveServer(server_env(app, **extra), free_port(), tmp_path / "server.log")

    # `workspace serve` syncs once at start; the journey begins after that run (a sign-in that
    # imports the same person while it runs is another test's matter).
    def synced() -> bool:
        db.end_read()
        return directory.last_sync() is not None

    assert wait_for(synced, 120), server.log.read_text(errors="replace")
    yield server
    server.stop()


@pytest.mark.parametrize("width,height", SIZES)
def test_on_ldap_the_list_is_read_only_and_sync_now_shows_its_summary(
    ldap_server: Any, page: Any, width: int, height: int
) -> None:
    """Does 「今すぐ同期」 run the sync with a progress bar and end with the counts, on a read-only list?"""
    page.set_viewport_size({"width": width, "height": height})
    sign_in_page(page, ldap_server.url, "suzuki.hanako", "pw-suzuki.hanako")
    page.goto(ldap_server.url + "/admin/users")
    sync = page.get_by_role("region", name="ディレクトリとの同期")
    expect(page.locator("#last-sync-result")).to_contain_text("追加 39人・更新 0人・無効化 0人")
    expect(page.get_by_role("link", name="職員を追加")).to_have_count(0)
    _no_axe(page)
    page.get_by_role("button", name="今すぐ同期").click()
    expect(sync.get_by_role("status")).to_contain_text("名簿の同期：完了", timeout=180_000)
    expect(sync.get_by_role("status")).to_contain_text("追加 0人・更新 39人・無効化 0人")
    expect(page.locator("#last-sync-result")).to_have_text("追加 0人・更新 39人・無効化 0人")
    expect(page.locator("#last-sync-time")).to_contain_text("令和")
    _no_axe(page)
    _shot(page, "ldap-synced", width)
    page.reload()
    expect(page.locator("#user-count")).to_contain_text("38人")  # the active ones (one is disabled)
    page.get_by_role("link", name="鈴木 花子").click()
    expect(page.get_by_role("button", name="無効にする")).to_have_count(0)
    expect(page.get_by_role("button", name="登録内容を保存")).to_have_count(0)
    expect(page.get_by_role("region", name="登録内容")).to_contain_text("ディレクトリ")
    _no_axe(page)
    if width == 1366 and DOC_SHOTS:
        page.goto(ldap_server.url + "/admin/users")
        page.screenshot(path=str(DOCS_IMG / "admin-users-ldap.png"))
