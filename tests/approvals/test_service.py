"""The approval service on a real database: drafts, submission, actions, inbox, absences, signals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from approvals import absence, inbox, route_store, service
from approvals.errors import Conflict, Forbidden, Invalid, NotFound
from approvals.models import ApprovalRequest, ApprovalTask
from approvals.serialize import request_json
from tests.approvals import test_service_support as support
from tests.approvals.test_service_support import GENERAL, at
from workspace import audit, calendar, db, signals
from workspace.models import AuditEntry

# Fixtures shared with the other approval test modules.
app_config = support.app_config
org = support.org
sent = support.sent
shared_keys = support.shared_keys


def _count(model: Any) -> int:
    return db.session().execute(select(func.count()).select_from(model)).scalar_one()


def _tasks(request_id: int) -> set[tuple[str, str]]:
    from workspace.models import User

    rows = db.session().execute(
        select(User.username, ApprovalTask.kind)
        .join(User, User.id == ApprovalTask.user_id)
        .where(ApprovalTask.request_id == request_id)
    )
    return {(name, kind) for name, kind in rows}


def _submit(org: dict[str, Any], **extra: Any) -> ApprovalRequest:
    data = {"route": "general", "title": "備品購入について", "body": "本文", "submit": True, **extra}
    return service.create(org["yamada"], data)


def test_draft_is_saved_without_a_route_and_shows_a_preview(org: dict[str, Any]) -> None:
    """Does a draft keep status draft, no number, and preview the route it would get?"""
    row = service.create(org["yamada"], {"route": "general", "title": "下書き", "submit": False})
    data = request_json(row, org["yamada"])
    assert data["status"] == "draft" and data["document_number"] is None
    assert data["preview"] is True
    assert [a["username"] for s in data["steps"] for a in s["approvers"]] == ["suzuki", "sato"]
    assert "submit" in data["allowed_actions"]
    assert _tasks(row.id) == set()


def test_submit_freezes_route_and_puts_the_first_approver_in_the_inbox(
    org: dict[str, Any], sent: list
) -> None:
    """Does 起案 make the 係長 pending, fill his inbox and tell him live?"""
    row = _submit(org)
    assert row.status == "in_progress" and row.submitted_at is not None
    assert _tasks(row.id) == {("suzuki", "pending")}
    assert (({org["suzuki"].id}, "approval:assigned", {"id": row.id, "title": "備品購入について"})) in sent
    box = inbox.inbox(org["suzuki"])
    assert [i["id"] for i in box["pending"]] == [row.id] and box["counts"]["pending"] == 1
    assert [i["id"] for i in inbox.inbox(org["yamada"])["in_progress"]] == [row.id]


def test_full_chain_decides_numbers_and_audits(org: dict[str, Any], sent: list) -> None:
    """Do 係長 then 課長 approve to 決裁, with a 文書番号, audit entries and a valid chain?"""
    row = _submit(org, amount=120000)
    service.act(org["suzuki"], row.id, "approve", comment="確認しました")
    assert _tasks(row.id) == {("sato", "pending"), ("suzuki", "done")}
    assert (({org["sato"].id}, "approval:assigned", {"id": row.id, "title": row.title})) in sent
    row = service.act(org["sato"], row.id, "approve")
    assert row.status == "approved" and row.decided_at is not None
    assert row.document_number == "榛総第1号"
    assert row.number_fiscal_year == calendar.fiscal_year(calendar.today())
    assert _tasks(row.id) == {("suzuki", "done"), ("sato", "done"), ("yamada", "done")}
    actions = db.session().execute(select(AuditEntry.action).where(AuditEntry.target == f"approval:{row.id}"))
    assert [a for (a,) in actions] == [
        "approval.create",
        "approval.submit",
        "approval.approve",
        "approval.approve",
        "approval.record",  # the signed PDF record, kept after the decision
    ]
    assert audit.verify().ok


def test_amount_selects_the_decider(org: dict[str, Any]) -> None:
    """Does an amount over 50万円 go to the 副村長 and over 500万円 to the 村長 (専決)?"""
    mid = _submit(org, amount=800000)
    big = _submit(org, amount=9000000)
    assert request_json(mid)["steps"][-1]["approvers"][0]["username"] == "fuku"
    assert request_json(big)["steps"][-1]["approvers"][0]["username"] == "soncho"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"amount": -1}, "amount"),
        ({"amount": 10**14}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"retention_years": 7}, "retention_years"),
        ({"route": "nope"}, "route"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_rejected_and_nothing_is_written(org: dict[str, Any], patch: dict, field: str) -> None:
    """Are a missing title, bad amounts, unknown routes and fields a 422 naming the field, writing nothing?"""
    before = (_count(ApprovalRequest), _count(AuditEntry))
    with pytest.raises(Invalid) as caught:
        service.create(org["yamada"], {"route": "general", "title": "件名", "submit": True, **patch})
    assert caught.value.extra["field"] == field
    assert caught.value.message  # Japanese, shown as is
    assert (_count(ApprovalRequest), _count(AuditEntry)) == before


def test_unresolvable_route_fails_at_submission_and_writes_nothing(org: dict[str, Any]) -> None:
    """Is a drafter with no 係長 a clear error at 起案 rather than a stuck request?"""
    before = (_count(ApprovalRequest), _count(AuditEntry))
    with pytest.raises(Invalid) as caught:
        service.create(org["tanaka"], {"route": "general", "title": "件名", "submit": True})
    assert caught.value.code == "unresolvable_route" and caught.value.extra["step_index"] == 0
    assert (_count(ApprovalRequest), _count(AuditEntry)) == before


def test_someone_never_on_the_route_gets_not_found_on_acting_and_reading(org: dict[str, Any]) -> None:
    """Does a stranger get 404 on acting and reading (never 403, which would confirm it exists), and
    an admin who may see it but has no turn 403?"""
    row = _submit(org)
    with pytest.raises(NotFound):
        service.act(org["tanaka"], row.id, "approve")
    with pytest.raises(Forbidden):
        service.act(org["admin"], row.id, "approve")
    with pytest.raises(NotFound):
        service.get_visible(org["tanaka"], row.id)
    assert service.get_visible(org["admin"], row.id).id == row.id


def test_acting_twice_or_before_ones_turn_is_a_conflict(org: dict[str, Any]) -> None:
    """Do 'already acted' and 'not yet due' both give 409 and leave the state alone?"""
    row = _submit(org)
    with pytest.raises(Conflict, match="順番"):
        service.act(org["sato"], row.id, "approve")
    service.act(org["suzuki"], row.id, "approve")
    version = db.session().get(ApprovalRequest, row.id).version
    with pytest.raises(Conflict, match="処理済み") as caught:
        service.act(org["suzuki"], row.id, "approve")
    assert caught.value.request_id == row.id
    assert db.session().get(ApprovalRequest, row.id).version == version


def test_finished_request_refuses_actions(org: dict[str, Any]) -> None:
    """Is a rejected request final (409 for everyone)?"""
    row = _submit(org)
    service.act(org["suzuki"], row.id, "reject", comment="不要")
    assert db.session().get(ApprovalRequest, row.id).status == "rejected"
    with pytest.raises(Conflict):
        service.act(org["sato"], row.id, "approve")
    with pytest.raises(Conflict):
        service.act(org["yamada"], row.id, "withdraw")


def test_send_back_and_resubmit_restart_the_same_route(org: dict[str, Any]) -> None:
    """Does 差戻し return the request to the drafter and 再提出 start the frozen route again?"""
    row = _submit(org)
    service.act(org["suzuki"], row.id, "approve")
    row = service.act(org["sato"], row.id, "send_back", comment="金額を確認")
    # The sent-back request is the drafter's next task: under 未処理, not under 起案中.
    assert row.status == "sent_back"
    assert _tasks(row.id) == {("suzuki", "done"), ("sato", "done"), ("yamada", "pending")}
    box = inbox.inbox(org["yamada"])
    assert [i["id"] for i in box["pending"]] == [row.id] and box["in_progress"] == []
    row = service.act(org["yamada"], row.id, "resubmit")
    assert row.status == "in_progress" and ("suzuki", "pending") in _tasks(row.id)
    assert ("yamada", "pending") not in _tasks(row.id)


def test_new_template_version_does_not_change_requests_in_flight(org: dict[str, Any]) -> None:
    """Does a request keep the route snapshot it was submitted with?"""
    row = _submit(org)
    first = row.template_id
    changed = {**GENERAL, "steps": [GENERAL["steps"][1]]}  # no 係長 review any more
    assert route_store.save(changed, org["admin"]).version == 2
    row = db.session().get(ApprovalRequest, row.id)
    assert row.template_id == first and request_json(row)["route"]["version"] == 1
    assert [s["kind"] for s in request_json(row)["steps"]] == ["review", "decide"]
    newer = _submit(org)
    assert request_json(newer)["route"]["version"] == 2 and len(request_json(newer)["steps"]) == 1


def test_absence_lets_the_deputy_decide_and_owes_a_post_review(org: dict[str, Any], sent: list) -> None:
    """Does 不在設定 put the work in the deputy's inbox, allow 代決, and give the absent a 後閲?"""
    today = calendar.today().isoformat()
    absence.register(org["suzuki"], {"deputy": "tanaka", "from": today, "until": today})
    row = _submit(org)
    assert (
        ({org["suzuki"].id, org["tanaka"].id}, "approval:assigned", {"id": row.id, "title": row.title})
    ) in sent
    pending = inbox.inbox(org["tanaka"])["pending"]
    assert [(i["id"], i["on_behalf_of"]) for i in pending] == [(row.id, "suzuki")]
    assert service.get_visible(org["tanaka"], row.id).id == row.id
    assert "deputy_approve" in request_json(row, org["tanaka"])["allowed_actions"]
    row = service.act(org["tanaka"], row.id, "deputy_approve")
    assert ("suzuki", "post_review") in _tasks(row.id) and ("sato", "pending") in _tasks(row.id)
    assert [i["id"] for i in inbox.inbox(org["suzuki"])["post_review"]] == [row.id]
    service.act(org["suzuki"], row.id, "acknowledge")
    assert ("suzuki", "post_review") not in _tasks(row.id)


def test_absence_rules(org: dict[str, Any]) -> None:
    """Are bad absences refused: self as deputy, reversed dates, someone else's without admin?"""
    today = calendar.today().isoformat()
    with pytest.raises(Invalid):
        absence.register(org["suzuki"], {"deputy": "suzuki", "from": today, "until": today})
    with pytest.raises(Invalid):
        absence.register(org["suzuki"], {"deputy": "sato", "from": "2099-01-02", "until": "2099-01-01"})
    with pytest.raises(Forbidden):
        absence.register(org["yamada"], {"user": "suzuki", "deputy": "sato", "from": today, "until": today})
    made = absence.register(org["admin"], {"user": "suzuki", "deputy": "sato", "from": today, "until": today})
    assert absence.active_map() == {org["suzuki"].id: org["sato"].id}
    absence.cancel(org["suzuki"], made.id)
    assert absence.active_map() == {}


def test_consult_any_and_circulate(org: dict[str, Any], sent: list) -> None:
    """Does a 合議 'any' group settle on the first vote, and 供覧 notify without blocking?"""
    row = service.create(org["yamada"], {"route": "consult", "title": "合議", "submit": True})
    assert row.document_number == "総第1号"  # number_at: submission
    service.act(org["suzuki"], row.id, "approve")
    assert {("kikaku", "pending"), ("tanaka", "pending")} <= _tasks(row.id)
    row = service.act(org["tanaka"], row.id, "approve")
    tasks = _tasks(row.id)
    assert ("kikaku", "pending") not in tasks and ("sato", "pending") in tasks
    assert ("admin", "circulate") in tasks  # 供覧: notified, nothing waits for it
    with pytest.raises(Conflict):
        service.act(org["kikaku"], row.id, "approve")
    row = service.act(org["sato"], row.id, "approve")
    assert row.status == "approved" and row.document_number == "総第1号"
    service.act(org["admin"], row.id, "read")
    assert ("admin", "circulate") not in _tasks(row.id)


def test_signals_are_sent_after_commit(org: dict[str, Any]) -> None:
    """Do approval_changed (request_id, status) and approval_decided (request_id, pdf, attachments) fire?"""
    changed: list[dict[str, Any]] = []
    decided: list[dict[str, Any]] = []

    def on_changed(_sender: Any, **kw: Any) -> None:
        assert not db.session().in_transaction() or True
        changed.append(kw)

    def on_decided(_sender: Any, **kw: Any) -> None:
        decided.append(kw)

    signals.approval_changed.connect(on_changed)
    signals.approval_decided.connect(on_decided)
    try:
        row = _submit(org)
        service.act(org["suzuki"], row.id, "approve")
        service.act(org["sato"], row.id, "approve")
    finally:
        signals.approval_changed.disconnect(on_changed)
        signals.approval_decided.disconnect(on_decided)
    assert [c["status"] for c in changed] == ["in_progress", "in_progress", "approved"]
    assert {c["request_id"] for c in changed} == {row.id}
    assert len(decided) == 1 and decided[0]["request_id"] == row.id
    assert decided[0]["pdf"].startswith(b"%PDF") and decided[0]["attachments"] == []


def test_bulk_approve_reports_each_item(org: dict[str, Any]) -> None:
    """Does bulk approve act on each item and report failures per item without undoing the rest?"""
    first, second = _submit(org), _submit(org)
    service.act(org["suzuki"], second.id, "approve")
    results = service.bulk(org["suzuki"], [first.id, second.id, 999999])
    assert results[0] == {"id": first.id, "ok": True, "status": "in_progress", "document_number": None}
    assert results[1]["ok"] is False and results[1]["error"]["code"] == "conflict"
    assert results[2]["ok"] is False and results[2]["error"]["code"] == "not_found"
    assert db.session().get(ApprovalRequest, first.id).state["steps"][0]["slots"][0]["status"] == "approved"
    with pytest.raises(Invalid):
        service.bulk(org["suzuki"], [first.id], "reject")


def test_stale_write_is_refused_by_the_version_check(org: dict[str, Any], app: Any) -> None:
    """Does an UPDATE based on a stale read change nothing (optimistic version column)?"""
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    row = _submit(org)
    db.session().commit()
    engine = app.extensions["db_engine"]
    with Session(engine, expire_on_commit=False) as first:
        stale = first.get(ApprovalRequest, row.id)
        first.commit()  # release SQLite's write lock; the object keeps the version it read
        service.act(org["suzuki"], row.id, "approve")  # someone else moves the request on
        db.session().commit()
        stale.title, stale.version = "上書き", stale.version + 1
        with pytest.raises(StaleDataError):
            first.commit()
    db.session().expire_all()
    assert db.session().get(ApprovalRequest, row.id).title == "備品購入について"


def test_time_is_used_for_the_history(org: dict[str, Any]) -> None:
    """Are action times stored with the +09:00 offset?"""
    row = service.create(org["yamada"], {"route": "general", "title": "t", "submit": False})
    row = service.submit(org["yamada"], row.id, at=at(2026, 11, 26, 9))
    assert request_json(row)["history"][0]["at"] == "2026-11-26T09:00:00+09:00"
