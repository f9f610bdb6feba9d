"""The 決裁 pages as served: the right words after an action, reasons required, what changed since
the last submission, 和暦 everywhere (verify page and PDF too), and no empty 合議 boxes."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from typing import Any

from approvals import record, route_store, service
from approvals.models import DecidedRecord
from tests.approvals import test_service_support as support
from tests.conftest import csrf_from, login
from workspace import db

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys

ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def _text(html: str) -> str:
    """Return what a reader sees: the page without tags, scripts and attribute values."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _press(client: Any, request_id: int, action: str, **form: str) -> str:
    token = csrf_from(client.get(f"/approvals/{request_id}").get_data(as_text=True))
    done = client.post(f"/approvals/{request_id}/act", data={"csrf_token": token, "action": action, **form})
    assert done.status_code == 302
    return _text(client.get(done.headers["Location"]).get_data(as_text=True))


def test_flash_says_shounin_for_an_intermediate_step_and_kessai_or_senketsu_for_the_decision(
    app: Any, org: dict[str, Any]
) -> None:
    """Does approving say 承認しました on a 回議 step, 専決しました under 課長専決, 決裁しました for 村長?"""
    small = service.create(
        org["yamada"], {"route": "general", "title": "少額", "amount": 1000, "submit": True}
    )
    large = service.create(
        org["yamada"], {"route": "general", "title": "高額", "amount": 9000000, "submit": True}
    )
    chief = app.test_client()
    login(chief, "suzuki")
    assert "承認しました。" in _press(chief, small.id, "approve")
    assert "承認しました。" in _press(chief, large.id, "approve")
    head = app.test_client()
    login(head, "sato")
    page = _press(head, small.id, "approve")
    assert "専決しました。" in page and "承認しました。" not in page
    mayor = app.test_client()
    login(mayor, "soncho")
    page = _press(mayor, large.id, "approve")
    assert "決裁しました。" in page and "承認しました。" not in page
    # The 処理履歴 calls the decision by its name too.
    history = page[page.index("処理履歴") :]
    assert "決裁" in history and history.count("承認") == 1  # only the 係長's 回議


def test_send_back_and_reject_without_a_reason_change_nothing(app: Any, org: dict[str, Any]) -> None:
    """Is a 差戻し or 却下 posted without a reason refused with a Japanese message, the request unchanged?"""
    row = service.create(org["yamada"], {"route": "general", "title": "理由なし", "submit": True})
    client = app.test_client()
    login(client, "suzuki")
    for action, word in (("send_back", "差戻し"), ("reject", "却下")):
        page = _press(client, row.id, action, comment="  ")
        assert f"{word}の理由を入力してください。" in page
        assert service.get_visible(org["suzuki"], row.id).status == "in_progress"
    page = _press(client, row.id, "send_back", comment="添付が足りません")
    assert "差戻ししました。" in page


def test_detail_page_offers_confirmation_dialogs_with_a_required_reason(
    app: Any, org: dict[str, Any]
) -> None:
    """Do 差戻し and 却下 open labelled dialogs with a required reason, and 取下げ / 引戻し ask to confirm?"""
    row = service.create(org["yamada"], {"route": "general", "title": "確認", "submit": True})
    client = app.test_client()
    login(client, "suzuki")
    html = client.get(f"/approvals/{row.id}").get_data(as_text=True)
    for action in ("send_back", "reject"):
        assert f'data-dialog="dialog-{action}"' in html
        dialog = html[html.index(f'<dialog id="dialog-{action}"') :]
        dialog = dialog[: dialog.index("</dialog>")]
        assert 'aria-labelledby="dialog-' in dialog and "の理由（必須）" in dialog and "required" in dialog
    drafter = app.test_client()
    login(drafter, "yamada")
    html = drafter.get(f"/approvals/{row.id}").get_data(as_text=True)
    assert 'data-dialog="dialog-withdraw"' in html and "取り下げますか？" in html
    assert 'data-dialog="dialog-pull_back"' in html and "引き戻しますか？" in html


def test_sent_back_page_shows_the_reason_first_and_the_changes_after_resubmission(
    app: Any, org: dict[str, Any]
) -> None:
    """Does the drafter see the 差戻し reason above the record, and the approver the body diff and the
    added attachment after the 再提出, with both versions listed?"""
    row = service.create(
        org["yamada"],
        {
            "route": "general",
            "title": "備品",
            "body": "一行目\n二行目\n三行目",
            "amount": 1000,
            "submit": True,
        },
    )
    service.act(org["suzuki"], row.id, "send_back", comment="二行目を直してください")
    drafter = app.test_client()
    login(drafter, "yamada")
    html = drafter.get(f"/approvals/{row.id}").get_data(as_text=True)
    assert html.index("二行目を直してください") < html.index('id="request-status"')
    assert (
        ">編集</button>" in html and ">削除</button>" not in html
    )  # a submitted request is withdrawn, not deleted
    token = csrf_from(html)
    edited = drafter.post(
        f"/approvals/{row.id}/edit",
        data={
            "csrf_token": token,
            "title": "備品",
            "body": "一行目\n二行目（修正）\n三行目",
            "amount": "1000",
            "retention_years": "5",
            "attachments": (io.BytesIO(b"a,b\n"), "内訳.csv"),
        },
        content_type="multipart/form-data",
    )
    assert edited.status_code == 302
    assert "修正を保存しました" in _text(drafter.get(edited.headers["Location"]).get_data(as_text=True))
    assert "再提出しました。" in _press(drafter, row.id, "resubmit")
    chief = app.test_client()
    login(chief, "suzuki")
    html = chief.get(f"/approvals/{row.id}").get_data(as_text=True)
    changes = html[html.index('id="changes"') : html.index('id="route-heading"')]
    assert "第1版 → 第2版" in changes
    assert "<del>二行目</del>" in changes and "<ins>二行目（修正）</ins>" in changes
    assert "<ins>内訳.csv</ins>" in changes and "三行目" in changes
    versions = _text(html[html.index('id="versions"') :])
    assert "第2版" in versions and "第1版" in versions and not ISO.search(versions)


def test_draft_page_has_edit_and_delete_and_delete_removes_it(app: Any, org: dict[str, Any]) -> None:
    """Does a 下書き show 編集 and 削除, and does 削除 delete it and return to the inbox?"""
    rid = service.create(org["yamada"], {"route": "general", "title": "消す下書き"}).id
    client = app.test_client()
    login(client, "yamada")
    html = client.get(f"/approvals/{rid}").get_data(as_text=True)
    assert ">編集</button>" in html and ">削除</button>" in html
    done = client.post(f"/approvals/{rid}/delete", data={"csrf_token": csrf_from(html)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/approvals/")
    assert "下書きを削除しました。" in _text(client.get(done.headers["Location"]).get_data(as_text=True))
    assert client.get(f"/approvals/{rid}").status_code == 404


def test_copy_button_opens_a_prefilled_draft(app: Any, org: dict[str, Any]) -> None:
    """Does 引用起案 on a request's page make the viewer's own draft, opened in the filled-in form?"""
    row = service.create(
        org["yamada"],
        {"route": "general", "title": "前年度の委託", "body": "委託内容", "amount": 5000, "submit": True},
    )
    client = app.test_client()
    login(client, "suzuki")
    html = client.get(f"/approvals/{row.id}").get_data(as_text=True)
    assert ">引用起案</button>" in html
    done = client.post(f"/approvals/{row.id}/copy", data={"csrf_token": csrf_from(html)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/edit")
    form = client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'value="前年度の委託"' in form and "委託内容</textarea>" in form and 'value="5000"' in form


def test_inbox_columns_sort_buttons_and_quick_action_words(app: Any, org: dict[str, Any]) -> None:
    """Does 未処理 show 種別, 件名, 金額, 起案者, 受付日, 経過日数 with sort buttons, and mark each item
    with the one action it takes (専決 here), a sent-back one under 未処理 for its drafter?"""
    row = service.create(org["yamada"], {"route": "general", "title": "受付", "amount": 1200, "submit": True})
    service.act(org["suzuki"], row.id, "approve")
    client = app.test_client()
    login(client, "sato")
    html = client.get("/approvals/").get_data(as_text=True)
    pending = html[html.index('id="inbox-pending"') : html.index('id="in_progress-heading"')]
    heads = re.findall(r'<button type="button" class="sort" data-sort="\w+"[^>]*>([^<]+)</button>', pending)
    assert heads == ["種別", "件名", "金額", "起案者", "受付日", "経過日数"]
    assert 'aria-sort="descending"' in pending and 'data-label="専決"' in pending
    cells = _text(pending)
    assert "一般文書" in cells and "1,200円" in cells and "山田 太郎" in cells and "0日" in cells
    assert "令和" in cells and not ISO.search(cells)
    service.act(org["sato"], row.id, "send_back", comment="再確認")
    drafter = app.test_client()
    login(drafter, "yamada")
    html = drafter.get("/approvals/").get_data(as_text=True)
    pending = html[html.index('id="inbox-pending"') : html.index('id="in_progress-heading"')]
    own = html[html.index('id="in_progress-heading"') : html.index('id="post_review-heading"')]
    assert "受付" in pending and "差戻し・要修正" in pending and "受付" not in own


HEAD_REVIEW = {
    "key": "head",
    "name": "課長回議の文書",
    "steps": [
        {"kind": "review", "approver": {"relation": "department_head"}},
        {"kind": "decide", "authority": [{"approver": {"title": "村長"}}]},
    ],
}


def test_bulk_refuses_items_whose_action_differs_from_the_one_chosen(app: Any, org: dict[str, Any]) -> None:
    """Does bulk 専決 process only items that are 専決 for the caller, refusing a 承認 item?"""
    decide = service.create(
        org["yamada"], {"route": "general", "title": "専決の件", "amount": 10, "submit": True}
    )
    service.act(org["suzuki"], decide.id, "approve")
    route_store.save(HEAD_REVIEW, org["admin"])
    db.session().commit()
    other = service.create(org["yamada"], {"route": "head", "title": "承認の件", "submit": True})
    client = app.test_client()
    login(client, "sato")
    token = csrf_from(client.get("/approvals/").get_data(as_text=True))
    done = client.post(
        "/approvals/bulk",
        data={
            "csrf_token": token,
            "ids": [str(decide.id), str(other.id)],
            "action": "approve",
            "label": "専決",
        },
    )
    page = _text(client.get(done.headers["Location"]).get_data(as_text=True))
    assert "1件を専決しました。" in page
    assert service.get_visible(org["sato"], decide.id).status == "approved"
    assert service.get_visible(org["sato"], other.id).status == "in_progress"


def test_verify_page_gives_the_signing_and_decision_times_in_wareki(app: Any, org: dict[str, Any]) -> None:
    """Does the 検証 page show 署名日時 and 決裁日時 as 令和…年…月…日 hh:mm, with no ISO date?"""
    row = service.create(org["yamada"], {"route": "general", "title": "検証", "amount": 10, "submit": True})
    service.act(org["suzuki"], row.id, "approve")
    service.act(org["sato"], row.id, "approve")
    pdf = db.session().get(DecidedRecord, row.id).pdf
    client = app.test_client()
    login(client, "yamada")
    token = csrf_from(client.get("/approvals/verify").get_data(as_text=True))
    page = client.post(
        "/approvals/verify",
        data={"csrf_token": token, "pdf": (io.BytesIO(pdf), "r.pdf")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    text = _text(page[page.index('id="verdict"') :])
    assert re.search(r"署名日時\s+令和\d+年\d+月\d+日 \d\d:\d\d", text)
    assert re.search(r"決裁日時\s+令和\d+年\d+月\d+日 \d\d:\d\d", text)
    assert not ISO.search(text)


CHOOSE = {
    "key": "choose",
    "name": "合議先を選ぶ文書",
    "steps": [
        {"kind": "review", "approver": {"relation": "section_chief"}},
        {
            "kind": "consult",
            "choose": True,
            "approvers": [{"department": "02", "title": "課長"}],
        },
        {"kind": "decide", "authority": [{"approver": {"relation": "department_head"}}]},
    ],
}


def _pdf_text(row_id: int, tmp_path: Path) -> str:
    data, _ = record.pdf_for(service.get_visible(support_admin(), row_id))
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-l", "1", str(path), "-"], capture_output=True, text=True).stdout


def support_admin() -> Any:
    from workspace.models import User

    return db.session().query(User).filter_by(username="admin").one()


def test_no_empty_consult_boxes_on_page_or_pdf(app: Any, org: dict[str, Any], tmp_path: Path) -> None:
    """Is a 合議 nobody was chosen for left off the page and the PDF, and a member whose 合議 another
    settled (any) drawn without an empty seal box?"""
    route_store.save(CHOOSE, org["admin"])
    db.session().commit()
    none = service.create(org["yamada"], {"route": "choose", "title": "合議なし", "submit": True})
    assert "合" not in _pdf_text(none.id, tmp_path).split("決裁欄")[1].split("本文")[0]
    client = app.test_client()
    login(client, "yamada")
    assert "step-consult" not in client.get(f"/approvals/{none.id}").get_data(as_text=True)
    # consult (any): 企画財政課長 or 田中; once 田中 agrees, 企田's box is no longer drawn.
    row = service.create(org["yamada"], {"route": "consult", "title": "合議あり", "submit": True})
    service.act(org["suzuki"], row.id, "approve")
    service.act(org["tanaka"], row.id, "approve")
    html = client.get(f"/approvals/{row.id}").get_data(as_text=True)
    consult = html[html.index("step-consult") :]
    consult = (
        consult[: consult.index("</li>\n    \n    <li")] if "</li>\n    \n    <li" in consult else consult
    )
    not_needed = consult[consult.index("slot-not_needed") :]
    assert "seal-empty" not in not_needed[: not_needed.index("</li>")]
    fresh = service.get_visible(org["admin"], row.id)
    boxes = [b.role for b in record.stamp_boxes(service.state_of(fresh)) if b.row == 1]
    assert len(boxes) == 1  # 田中's box only
