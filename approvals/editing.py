"""Changing a request before approvers see it: edit a draft or a sent-back request, delete a draft,
and 引用起案 (a new draft copied from an earlier request).

Who and when (the API promises exactly this):

* edit: the drafter, while the request is ``draft`` or ``sent_back`` (差戻し to him); otherwise 409.
  The route of a submitted request is frozen, so after a 差戻し only the content changes; an amount
  that would move the decision to another 決裁区分 (課長専決 → 村長決裁, say) is refused, because the
  frozen route would then decide at the wrong level: withdraw and start a 引用起案 instead.
* delete: the drafter, while the request is a ``draft`` (a submitted request is a record: 取下げ).
* copy: anyone who may see the original; the copy is the caller's own draft.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from approvals import access, attachments, route_store, service
from approvals import attachment_store as store
from approvals.errors import Conflict, Forbidden, Invalid
from approvals.models import ApprovalAttachment, ApprovalRequest, ApprovalTask
from approvals.routes import RouteTemplate
from workspace import audit, calendar, db
from workspace.models import User

EDIT_FIELDS = frozenset({"title", "body", "amount", "classification", "retention_years"})
# Only a draft's route may still change: a submitted request keeps the route it was sent with.
DRAFT_ONLY_FIELDS = frozenset({"route", "consult_departments"})


def _own_locked(actor: User, request_id: int, what: str) -> ApprovalRequest:
    """Return the locked request if ``actor`` drafted it; 404 when he may not see it, else 403."""
    row = access.lock(request_id, actor)
    if actor.id != row.drafter_id:
        raise Forbidden(f"{what}できるのは起案者だけです。")
    return row


def _decision_rule(template: RouteTemplate, amount: int | None) -> int:
    """Return the index of the authority rule that decides ``amount`` (the first that covers it)."""
    rules = template.steps[-1].authority
    value = amount or 0
    return next(i for i, r in enumerate(rules) if r.max_amount is None or value <= r.max_amount)


@db.writes
def update(actor: User, request_id: int, data: dict[str, Any]) -> ApprovalRequest:
    """Change title, body, amount, classification or retention of a draft or sent-back request; commit.

    A draft may also change its ``route``. Raises NotFound / Forbidden / Conflict (not editable now,
    with the current state) / Invalid (bad field).
    """
    row = _own_locked(actor, request_id, "内容を変更")
    if row.status not in attachments.EDITABLE:
        raise Conflict("起案後は内容を変更できません（起案者への差戻し後は変更できます）。", row.id)
    allowed = EDIT_FIELDS | (DRAFT_ONLY_FIELDS if row.status == "draft" else frozenset())
    unknown = sorted(set(data) - allowed)
    if unknown:
        if set(unknown) <= DRAFT_ONLY_FIELDS:
            raise Invalid("差戻し後は決裁ルートを変更できません。", field=unknown[0])
        raise Invalid(f"不明な項目があります: {', '.join(unknown)}", field=unknown[0])
    merged = {
        "route": row.route_key,
        "title": row.title,
        "body": row.body,
        "amount": row.amount,
        "classification": row.classification,
        "retention_years": row.retention_years,
        "consult_departments": row.consult_choice,
        **data,
    }
    draft = service.parse_draft(merged)
    if row.status == "draft":
        template_row = route_store.latest(draft.route)
        if template_row is None:
            raise Invalid(
                f"決裁ルート「{draft.route}」は登録されていません。", code="unknown_route", field="route"
            )
        choice = service.check_consult_choice(route_store.parsed(template_row), draft.consult_departments)
        row.route_key, row.template_id, row.template = draft.route, template_row.id, template_row
        row.consult_choice = choice
    else:
        frozen = route_store.parsed(row.template)
        if _decision_rule(frozen, draft.amount) != _decision_rule(frozen, row.amount):
            raise Invalid(
                "この金額では決裁区分が変わるため、差戻し後の修正では変更できません。"
                "取下げてから引用起案してください。",
                field="amount",
            )
    changed = sorted(k for k in data if getattr(row, k, None) != getattr(draft, k, None))
    row.title, row.body, row.amount = draft.title, draft.body, draft.amount
    row.classification, row.retention_years = draft.classification, draft.retention_years
    row.updated_at = calendar.now()
    audit.record(
        "approval.edit", actor=actor.username, target=f"approval:{row.id}", detail={"fields": changed}
    )
    service.announce_changed(row.id, row.status)  # inside the unit: what it owes commits with it
    return row


@db.writes
def delete_draft(actor: User, request_id: int) -> None:
    """Delete a draft with its attachments; commit. Raises NotFound / Forbidden / Conflict."""
    row = _own_locked(actor, request_id, "下書きを削除")
    if row.status != "draft":
        raise Conflict("起案した後は削除できません。取下げを使ってください。", row.id)
    session = db.session()
    digests = [a.sha256 for a in attachments.list_for(row.id)]
    session.execute(delete(ApprovalAttachment).where(ApprovalAttachment.request_id == row.id))
    session.execute(delete(ApprovalTask).where(ApprovalTask.request_id == row.id))
    audit.record(
        "approval.delete", actor=actor.username, target=f"approval:{row.id}", detail={"title": row.title}
    )
    session.delete(row)
    service.announce_changed(request_id, "deleted")

    def remove_files() -> None:
        # Bytes no other attachment refers to go too (content-addressed: another request may share them).
        for sha256 in set(digests):
            if not store.is_referenced(sha256):
                store.remove(sha256)

    db.on_commit(remove_files)


@db.writes
def copy(actor: User, request_id: int, data: dict[str, Any]) -> ApprovalRequest:
    """引用起案: a new draft of ``actor`` with the original's title, body, route, amount (and, with
    ``{"attachments": true}``, its attachments); commit and return it.

    The attachments copied are the ones the approvers saw (the list frozen at the last submission),
    or a draft's current list. Raises NotFound (may not see the original), Invalid (bad flag, the
    route no longer exists, the caller has no 課).
    """
    unknown = sorted(set(data) - {"attachments"})
    if unknown:
        raise Invalid(f"不明な項目があります: {', '.join(unknown)}", field=unknown[0])
    with_files = data.get("attachments", False)
    if not isinstance(with_files, bool):
        raise Invalid("attachments は true か false で指定してください。", field="attachments")
    original = access.get_visible(actor, request_id)
    files = attachments.manifest(original) if with_files else []
    missing = [f["name"] for f in files if not store.path_for(f["sha256"]).is_file()]
    if missing:
        raise Invalid(
            f"添付ファイルの内容が見つからないため引用できません: {missing[0]}", field="attachments"
        )
    source = {
        "route": original.route_key,
        "title": original.title,
        "body": original.body,
        "amount": original.amount,
        "classification": original.classification,
        "retention_years": original.retention_years,
    }
    template_row = route_store.latest(original.route_key)
    if template_row is not None and original.consult_choice:
        try:  # the choice is kept only while the current route can still take it
            service.check_consult_choice(route_store.parsed(template_row), original.consult_choice)
            source["consult_departments"] = original.consult_choice
        except Invalid:
            pass

    def link(row: ApprovalRequest) -> None:
        session = db.session()
        now = calendar.now()
        for f in files:
            session.add(
                ApprovalAttachment(
                    request_id=row.id,
                    name=f["name"],
                    size=f["size"],
                    sha256=f["sha256"],
                    content_type=f["content_type"],
                    created_at=now,
                    created_by=actor.id,
                )
            )
        audit.record(
            "approval.copy",
            actor=actor.username,
            target=f"approval:{row.id}",
            detail={"from": original.id, "attachments": len(files)},
        )

    row = service.create(actor, source)  # joins this unit: the copy and its attachment rows, or neither
    link(row)
    return row

