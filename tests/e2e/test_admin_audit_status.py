"""管理 › 監査ログ and システム状態 in the browser, as the administrator and a 主事, on desktop and phone.

The administrator filters the log by 氏名 and a 和暦 date, opens an entry, runs 改ざん検証 (clean, then
after an entry is forged: the first bad entry is linked), and on システム状態 reads each part's
正常/注意/異常 and runs 索引の再構築 with its progress bar. A 主事 sees no 管理 link and gets 403 by URL.
Screenshots go to /tmp/shots-audit-status/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from tests.conftest import axe_violations, sign_in_page
from workspace import audit, db
from workspace.models import AuditEntry

SHOTS = Path("/tmp/shots-audit-status")
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _no_axe(page: Any) -> None:
    found = axe_violations(page)
    assert found == [], [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in found]


@pytest.mark.parametrize("size", SIZES)
def test_admin_reads_filters_and_verifies_the_audit_log(
    live_server: Any, page: Any, village: Any, size: str
) -> None:
    """Can the administrator find 山田's entry by 氏名 and 和暦 date, open it, and verify the chain?"""
    with db.write():
        audit.record(
            "token.create", actor="yamada", target="rpa-renkei", detail={"before": None, "after": "rpa"}
        )
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    sign_in_page(page, live_server.url, "admin")
    page.get_by_role("link", name="管理", exact=True).click()
    page.get_by_role("link", name="監査ログ", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("監査ログ")
    page.get_by_label("だれが（氏名またはユーザー名）").fill("山田")
    page.get_by_label("この日から").fill("令和8年12月1日")
    page.get_by_role("button", name="絞り込む").click()
    expect(page.get_by_label("この日から")).to_have_value("令和8年12月1日")
    table = page.get_by_role("table", name="監査ログの記録（新しい順）")
    expect(table).to_contain_text("山田 太郎")
    expect(table).to_contain_text("APIトークンの発行")
    expect(page.get_by_role("heading", name=re.compile("記録 1件"))).to_be_visible()
    _no_axe(page)
    _shot(page, f"audit-list-{size}")

    page.get_by_label("この日まで").fill("令和8年2月30日")
    page.get_by_role("button", name="絞り込む").click()
    to_field = page.get_by_label("この日まで")
    expect(to_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-to-error")).to_contain_text("実在する日")
    _no_axe(page)
    page.get_by_role("link", name="条件を消す").click()

    page.get_by_label("だれが（氏名またはユーザー名）").fill("山田")
    page.get_by_role("button", name="絞り込む").click()
    page.get_by_role("link", name=re.compile("^詳細")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("監査ログの記録 番号")
    expect(page.get_by_role("heading", name="記録のつながり（ハッシュ）")).to_be_visible()
    expect(page.locator(".audit-json")).to_contain_text('"after": "rpa"')
    expect(page.get_by_text("この記録の内容とハッシュは一致しています")).to_be_visible()
    _no_axe(page)
    _shot(page, f"audit-entry-{size}")

    page.get_by_role("link", name="監査ログの一覧へ戻る").click()
    page.get_by_role("button", name="改ざん検証").click()
    result = page.locator("#verify-result")
    expect(result).to_contain_text("改ざんは見つかりませんでした", timeout=60_000)
    expect(result).to_contain_text("正常")
    _no_axe(page)
    _shot(page, f"audit-verified-{size}")

    with db.read_session() as session:
        victim = session.scalar(select(AuditEntry.id).where(AuditEntry.target == "rpa-renkei"))
    with db.write():
        db.session().execute(update(AuditEntry).where(AuditEntry.id == victim).values(target="forged"))
    page.reload()
    page.get_by_role("button", name="改ざん検証").click()
    expect(result).to_contain_text("異常", timeout=60_000)
    expect(result).to_contain_text("内容が書き換えられています")
    _shot(page, f"audit-forged-{size}")
    result.get_by_role("link", name=f"最初に問題のある記録（番号{victim}）を見る").click()
    expect(page.get_by_text("この記録の内容とハッシュが一致しません")).to_be_visible()
    _no_axe(page)


@pytest.mark.parametrize("size", SIZES)
def test_admin_reads_the_system_state_and_rebuilds_the_index(live_server: Any, page: Any, size: str) -> None:
    """Does システム状態 say each part's state in words, and does 索引の再構築 run with its progress bar?"""
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    sign_in_page(page, live_server.url, "admin")
    page.get_by_role("link", name="管理", exact=True).click()
    page.get_by_role("link", name="システム状態", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("システム状態")
    for title in (
        "データベース",
        "名簿（ディレクトリ）",
        "検索の索引",
        "保存領域の空き",
        "電子署名の証明書",
        "バージョン",
    ):
        heading = page.get_by_role("heading", name=re.compile("^" + re.escape(title)))
        expect(heading).to_be_visible()
        expect(heading).to_contain_text(re.compile("正常|注意|異常"))
    expect(page.get_by_role("heading", name=re.compile("^データベース"))).to_contain_text("正常")
    _no_axe(page)
    _shot(page, f"status-{size}")
    page.get_by_role("button", name="索引の再構築").click()
    panel = page.locator(".job-panel[data-job-kind='search.reindex']")
    expect(panel.locator(".job-text")).to_contain_text("索引の再構築：完了", timeout=90_000)
    expect(page.get_by_role("button", name="索引の再構築")).to_be_enabled()
    page.reload()
    search_card = page.locator(
        ".status-part", has=page.get_by_role("heading", name=re.compile("^検索の索引"))
    )
    expect(search_card).not_to_contain_text("記録がありません")
    expect(search_card).not_to_contain_text("まだ作られていません")
    _no_axe(page)
    _shot(page, f"status-reindexed-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_a_clerk_sees_no_link_and_gets_403(live_server: Any, page: Any, size: str) -> None:
    """Is a 主事 shown no 管理 link, and refused the audit log and the system state by URL?"""
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    sign_in_page(page, live_server.url, "yamada")
    expect(page.get_by_role("link", name="管理", exact=True)).to_have_count(0)
    for path in ("/admin/audit", "/admin/audit/1", "/admin/audit/export.csv", "/admin/status"):
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 403, path
    expect(page.get_by_role("link", name="監査ログ")).to_have_count(0)
    _no_axe(page)
