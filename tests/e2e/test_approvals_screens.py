"""The 決裁 screens in a real browser at 1366×900 and 390×844: corrections after 差戻し, drafts,
引用起案, confirmation dialogs, the sticky action bar, the inbox table, the 合議 picker, keyboard only.

Full-page screenshots go to screenshots/approvals-*.png (README: 画面の確認).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from approvals import route_store, service
from tests.approvals import test_service_support as support
from tests.conftest import axe_violations, sign_in_page
from workspace import ROOT, db

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys
SHOTS = Path(ROOT) / "screenshots"
SIZES = [(1366, 900), (390, 844)]

THREE_STEPS = {
    "key": "three",
    "name": "村長決裁の文書",
    "steps": [
        {"kind": "review", "approver": {"relation": "section_chief"}},
        {"kind": "review", "approver": {"relation": "department_head"}},
        {"kind": "decide", "authority": [{"approver": {"title": "村長"}}]},
    ],
}
HEAD_REVIEW = {
    "key": "head",
    "name": "課長回議の文書",
    "steps": [
        {"kind": "review", "approver": {"relation": "department_head"}},
        {"kind": "decide", "authority": [{"approver": {"title": "村長"}}]},
    ],
}
CHOOSE = {
    "key": "choose",
    "name": "合議先を選ぶ文書",
    "steps": [
        {"kind": "review", "approver": {"relation": "section_chief"}},
        {
            "kind": "consult",
            "choose": True,
            "approvers": [{"department": "02", "title": "課長"}, {"department": "01", "title": "課長"}],
        },
        {"kind": "decide", "authority": [{"approver": {"title": "村長"}}]},
    ],
}


def _open(browser: Any, live_server: Any, username: str, width: int, height: int) -> Any:
    context = browser.new_context(
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        viewport={"width": width, "height": height},
        is_mobile=width < 500,
        has_touch=width < 500,
    )
    page = context.new_page()
    sign_in_page(page, live_server.url, username)
    return page


def _look(page: Any, name: str, width: int) -> None:
    """Zero axe violations, nothing wider than the screen, and a full-page screenshot to look at."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    violations = axe_violations(page)
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"approvals-{name}-{width}.png"), full_page=True)


def _in_viewport(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


@pytest.mark.parametrize("width,height", SIZES)
def test_correction_after_send_back_and_the_approver_sees_what_changed(
    live_server: Any, org: dict[str, Any], browser: Any, width: int, height: int
) -> None:
    """Does the drafter find the sent-back request under 未処理 with its reason on top, correct body and
    attachments through 編集, 再提出, and does the 係長 then see the changed lines and the new file?"""
    row = service.create(
        org["yamada"],
        {
            "route": "general",
            "title": "公民館の暖房機更新",
            "body": "一　目的\n公民館の暖房機を更新する。\n二　金額\n見積額のとおり。",
            "amount": 180000,
            "submit": True,
        },
    )
    service.act(
        org["suzuki"], row.id, "send_back", comment="見積書を添付し、金額の根拠を本文に書いてください。"
    )

    page = _open(browser, live_server, "yamada", width, height)
    page.goto(f"{live_server.url}/approvals/")
    pending = page.locator("#inbox-pending")
    expect(pending.get_by_role("link", name="公民館の暖房機更新")).to_be_visible()
    expect(pending).to_contain_text("差戻し・要修正")
    expect(page.get_by_role("region", name="起案中")).not_to_contain_text("公民館の暖房機更新")
    _look(page, "inbox-sent-back", width)

    pending.get_by_role("link", name="公民館の暖房機更新").click()
    reason = page.get_by_role("region", name="差戻しされました")
    expect(reason).to_contain_text("見積書を添付し")
    assert reason.bounding_box()["y"] < page.locator("#request-status").bounding_box()["y"]
    assert _in_viewport(page, reason)
    _look(page, "sent-back-drafter", width)

    page.get_by_role("button", name="編集", exact=True).click()
    expect(page.get_by_role("heading", name="差戻しの修正")).to_be_visible()
    page.fill("#body", "一　目的\n公民館の暖房機を更新する。\n二　金額\n見積書（3社）の最低額による。")
    page.set_input_files(
        "#attachments",
        files=[{"name": "見積書.csv", "mimeType": "text/csv", "buffer": "社名,金額\nA,180000\n".encode()}],
    )
    _look(page, "edit-sent-back", width)
    page.get_by_role("button", name="保存する").click()
    expect(page.locator(".flash-info")).to_contain_text("修正を保存しました")
    page.get_by_role("button", name="再提出").click()
    expect(page.locator(".flash-info")).to_contain_text("再提出しました")
    expect(page.locator("#request-status")).to_have_text("決裁中")
    page.context.close()

    chief = _open(browser, live_server, "suzuki", width, height)
    chief.goto(f"{live_server.url}/approvals/{row.id}")
    changes = chief.get_by_role("region", name="前回の提出からの変更（第1版 → 第2版）")
    expect(changes).to_be_visible()
    expect(changes.locator("ins")).to_contain_text(["見積書.csv", "見積書（3社）の最低額による。"])
    expect(changes.locator("del")).to_contain_text(["見積額のとおり。"])
    versions = chief.get_by_role("region", name="提出した内容の履歴")
    expect(versions.locator("summary")).to_have_count(2)
    expect(versions).not_to_contain_text("2026-")
    _look(chief, "changes-approver", width)
    chief.context.close()


@pytest.mark.parametrize("width,height", SIZES)
def test_draft_edit_delete_with_confirmation_and_copy(
    live_server: Any, org: dict[str, Any], browser: Any, width: int, height: int
) -> None:
    """Does a 下書き offer 編集 and 削除, 削除 ask in a dialog (やめる keeps it), and 引用起案 open a new
    draft filled in from an earlier request?"""
    draft = service.create(org["yamada"], {"route": "general", "title": "消す予定の下書き"})
    earlier = service.create(
        org["yamada"],
        {
            "route": "general",
            "title": "令和7年度 除雪委託",
            "body": "除雪作業を委託する。",
            "amount": 420000,
            "submit": True,
        },
    )
    page = _open(browser, live_server, "yamada", width, height)
    page.goto(f"{live_server.url}/approvals/{draft.id}")
    expect(page.get_by_role("button", name="編集", exact=True)).to_be_visible()
    page.get_by_role("button", name="削除", exact=True).click()
    dialog = page.get_by_role("dialog", name="この下書きを削除しますか？")
    expect(dialog).to_be_visible()
    _look(page, "delete-dialog", width)
    dialog.get_by_role("button", name="やめる").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="削除", exact=True).click()
    dialog.get_by_role("button", name="削除する").click()
    expect(page.locator(".flash-info")).to_contain_text("下書きを削除しました")
    assert page.url.endswith("/approvals/")

    page.goto(f"{live_server.url}/approvals/{earlier.id}")
    page.get_by_role("button", name="引用起案").click()
    page.wait_for_url("**/edit")
    expect(page.locator("#title")).to_have_value("令和7年度 除雪委託")
    expect(page.locator("#body")).to_have_value("除雪作業を委託する。")
    expect(page.locator("#amount")).to_have_value("420000")
    _look(page, "copy-edit", width)
    page.context.close()


@pytest.mark.parametrize("width,height", SIZES)
def test_send_back_and_withdraw_ask_first(
    live_server: Any, org: dict[str, Any], browser: Any, width: int, height: int
) -> None:
    """Does 差戻し open a dialog that will not send without a reason, and 取下げ ask before it acts?"""
    row = service.create(org["yamada"], {"route": "general", "title": "確認を求める件", "submit": True})
    chief = _open(browser, live_server, "suzuki", width, height)
    chief.goto(f"{live_server.url}/approvals/{row.id}")
    chief.get_by_role("button", name="差戻し").click()
    dialog = chief.get_by_role("dialog", name="差し戻しますか？")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="差し戻す").click()  # the reason is required: nothing is sent
    expect(dialog).to_be_visible()
    reason = dialog.get_by_label("差戻しの理由（必須）")
    assert reason.evaluate("field => field.validationMessage") == "差戻しの理由を入力してください。"
    expect(chief.locator("#request-status")).to_have_text("決裁中")
    _look(chief, "send-back-dialog", width)
    reason.fill("日付の誤りを直してください。")
    dialog.get_by_role("button", name="差し戻す").click()
    expect(chief.locator(".flash-info")).to_contain_text("差戻ししました")
    chief.context.close()

    drafter = _open(browser, live_server, "yamada", width, height)
    drafter.goto(f"{live_server.url}/approvals/{row.id}")
    drafter.get_by_role("button", name="取下げ").click()
    confirm = drafter.get_by_role("dialog", name="取り下げますか？取り下げた起案は元に戻せません。")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="取り下げる").click()
    expect(drafter.locator("#request-status")).to_have_text("取下げ")
    drafter.context.close()


def test_three_step_request_is_approved_on_a_phone_without_scrolling(
    live_server: Any, org: dict[str, Any], browser: Any
) -> None:
    """At 390×844, is each approver's button on screen as the page opens (the sticky action bar), and
    does the flash say 承認しました for the 回議 steps and 決裁しました for the 村長?"""
    route_store.save(THREE_STEPS, org["admin"])
    db.session().commit()
    body = "\n".join(f"{n}　説明の段落です。" * 3 for n in range(1, 30))  # a long record
    row = service.create(
        org["yamada"], {"route": "three", "title": "村道改良工事", "body": body, "submit": True}
    )
    for username, word, flash in (
        ("suzuki", "承認", "承認しました"),
        ("sato", "承認", "承認しました"),
        ("soncho", "決裁", "決裁しました"),
    ):
        page = _open(browser, live_server, username, 390, 844)
        page.goto(f"{live_server.url}/approvals/")
        page.locator("#inbox-pending").get_by_role("link", name="村道改良工事").click()
        button = page.get_by_role("button", name=word, exact=True)
        expect(button).to_be_visible()
        expect(button).to_be_in_viewport(ratio=1)  # wholly on screen, without scrolling
        assert page.evaluate("window.scrollY") == 0
        if username == "soncho":
            _look(page, "phone-decide", 390)
        button.click()
        expect(page.locator(".flash-info")).to_contain_text(flash)
        page.context.close()
    db.session().expire_all()  # the server changed the row; read it afresh
    assert service.get_visible(org["admin"], row.id).status == "approved"


@pytest.mark.parametrize("width,height", SIZES)
def test_inbox_sorts_filters_and_bulk_only_for_one_kind_of_action(
    live_server: Any, org: dict[str, Any], browser: Any, width: int, height: int
) -> None:
    """Can the 課長 sort by 金額 (aria-sort), filter by text and 種別, and bulk-process only items that
    take the same action (専決 with 専決, never with a 承認)?"""
    route_store.save(HEAD_REVIEW, org["admin"])
    db.session().commit()
    ids = {}
    for title, amount in (("備品購入（机）", 300000), ("備品購入（椅子）", 20000)):
        ids[title] = service.create(
            org["yamada"], {"route": "general", "title": title, "amount": amount, "submit": True}
        ).id
        service.act(org["suzuki"], ids[title], "approve")
    ids["研修参加"] = service.create(org["yamada"], {"route": "head", "title": "研修参加", "submit": True}).id

    page = _open(browser, live_server, "sato", width, height)
    page.goto(f"{live_server.url}/approvals/")
    table = page.locator("#pending-table")
    for name in ("種別", "件名", "金額", "起案者", "受付日", "経過日数"):
        expect(table.get_by_role("columnheader", name=name)).to_be_visible()
    table.get_by_role("button", name="金額").click()
    expect(table.get_by_role("columnheader", name="金額")).to_have_attribute("aria-sort", "ascending")
    titles = table.locator("tbody tr td:nth-child(3) a").all_inner_texts()
    assert titles == ["研修参加", "備品購入（椅子）", "備品購入（机）"]
    table.get_by_role("button", name="金額").click()
    expect(table.get_by_role("columnheader", name="金額")).to_have_attribute("aria-sort", "descending")

    page.get_by_label("件名・起案者で絞り込む").fill("椅子")
    expect(table.locator("tbody tr:visible")).to_have_count(1)
    page.get_by_label("件名・起案者で絞り込む").fill("")
    page.get_by_label("種別で絞り込む").select_option("課長回議の文書")
    expect(table.locator("tbody tr:visible")).to_have_count(1)
    page.get_by_label("種別で絞り込む").select_option("")

    bulk = page.locator("#bulk-button")
    page.get_by_label("備品購入（机） を選択（専決）").check()
    page.get_by_label("研修参加 を選択（承認）").check()
    expect(bulk).to_be_disabled()
    expect(page.locator("#bulk-hint")).to_contain_text("混じっています")
    _look(page, "inbox-mixed", width)
    page.get_by_label("研修参加 を選択（承認）").uncheck()
    page.get_by_label("備品購入（椅子） を選択（専決）").check()
    expect(bulk).to_have_text("選択した2件を専決")
    bulk.click()
    expect(page.locator(".flash-info")).to_contain_text("2件を専決しました")
    page.context.close()


def test_approving_from_the_inbox_by_keyboard_only(
    live_server: Any, org: dict[str, Any], browser: Any
) -> None:
    """Can the 係長 tick an item and 承認 it from the inbox with Tab, Space and Enter alone?"""
    row = service.create(org["yamada"], {"route": "general", "title": "鍵の管理", "submit": True})
    page = _open(browser, live_server, "suzuki", 1366, 900)
    page.goto(f"{live_server.url}/approvals/")

    def tab_to(element_id: str) -> None:
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
                return
        raise AssertionError(f"#{element_id} is not reachable by Tab")

    tab_to(f"pick-{row.id}")
    page.keyboard.press("Space")
    tab_to("bulk-button")
    expect(page.locator("#bulk-button")).to_have_text("選択した1件を承認")
    page.keyboard.press("Enter")
    expect(page.locator(".flash-info")).to_contain_text("1件を承認しました")
    db.session().expire_all()  # the server changed the row; read it afresh
    assert service.get_visible(org["admin"], row.id).state["steps"][0]["slots"][0]["status"] == "approved"
    page.context.close()


@pytest.mark.parametrize("width,height", SIZES)
def test_draft_form_offers_the_consult_departments_the_route_lets_the_drafter_choose(
    live_server: Any, org: dict[str, Any], browser: Any, width: int, height: int
) -> None:
    """Does choosing a route with a choosable 合議 show a picker of its 課, the preview follow the
    ticks, and the submitted request consult only the 課 chosen?"""
    route_store.save(CHOOSE, org["admin"])
    db.session().commit()
    page = _open(browser, live_server, "yamada", width, height)
    page.goto(f"{live_server.url}/approvals/new")
    picker = page.get_by_role("group", name="合議先")
    page.select_option("#route", "general")
    expect(picker).to_be_hidden()
    page.select_option("#route", "choose")
    expect(picker).to_be_visible()
    expect(page.locator("#route-preview .step-consult")).to_have_count(0)
    picker.get_by_label("企画財政課").check()
    expect(page.locator("#route-preview .step-consult")).to_contain_text("企田 三郎")
    page.fill("#title", "庁舎の省エネ改修")
    _look(page, "new-consult-picker", width)
    page.get_by_role("button", name="起案する").click()
    expect(page.locator("#request-status")).to_have_text("決裁中")
    consult = page.locator(".route-step.step-consult")
    expect(consult).to_have_count(1)
    expect(consult).to_contain_text("企田 三郎")
    expect(consult).not_to_contain_text("佐藤 一郎")
    page.context.close()
