"""The approval service: drafts, submission, actions — the only approval code that commits.

Every change follows one path (:func:`_commit`): lock the request row, run the pure state machine,
write the new state with its derived inbox rows, 文書番号, audit entry, the 通知 and what the change
owes (``approval_changed``'s index row, the signed record's outbox job) in the same transaction, and
commit; Socket.IO pushes and the record's rendering and signing follow the commit.

Concurrency: the request row is read ``FOR UPDATE`` (PostgreSQL; SQLite's BEGIN IMMEDIATE already
serializes writers), so a second approver waits, then sees the first one's result and gets a 409 from
the machine. Independently, the UPDATE is conditional on the version read (SQLAlchemy's
``version_id_col``), so a write based on a stale read can never land.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from approvals import absence, attachments, inbox, machine, notices, numbering, record, route_store
from approvals import effects as fx
from approvals.access import can_view as can_view  # re-exported: decided in approvals.access
from approvals.access import get_visible as get_visible  # re-exported: decided in approvals.access
from approvals.access import lock
from approvals.directory_adapter import DbDirectory, person_of
from approvals.errors import ApprovalError, Conflict, Forbidden, Invalid, NotFound, clean
from approvals.models import ApprovalRequest, ApprovalVersion
from approvals.resolution import ResolvedStep, UnresolvableApprover, resolve_route
from approvals.routes import MAX_AMOUNT, RouteTemplate, apply_consult_choice
from approvals.state import RequestState, new_request
from workspace import audit, calendar, db, inputs, outbox, realtime, signals, text
from workspace.models import User

MAX_TITLE = 200
MAX_BODY = 20000
MAX_CLASSIFICATION = 100
RETENTION_CHOICES = (1, 3, 5, 10, 30)  # None = 永年 (permanent)
MAX_BULK = 100
BULK_ACTIONS = ("approve", "deputy_approve", "acknowledge", "read")
_DRAFT_FIELDS = frozenset(
    {"route", "title", "body", "amount", "classification", "retention_years", "consult_departments", "submit"}
)


@dataclass(frozen=True)
class DraftInput:
    """Validated content of a 起案書."""

    route: str
    title: str
    body: str
    amount: int | None
    classification: str | None
    retention_years: int | None
    submit: bool
    consult_departments: dict[str, list[str]] | None = None


# -- input --------------------------------------------------------------------------------------


def _optional_text(data: dict[str, Any], key: str, max_len: int, label: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise Invalid(f"{label}は{max_len}文字以内の文字列で入力してください。", field=key)
    return clean(text.clean_line, value, label, key).strip() or None


def parse_amount(value: Any) -> int | None:
    """Return the amount in yen (None when absent); raise :class:`Invalid` for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("金額は0以上の整数（円）で入力してください。", field="amount")
    if value < 0:
        raise Invalid("金額に負の値は指定できません。", field="amount")
    if value > MAX_AMOUNT:
        raise Invalid("金額が大きすぎます。入力内容を確認してください。", field="amount")
    return value


def parse_draft(data: dict[str, Any]) -> DraftInput:
    """Validate the JSON of ``POST /approvals``; raise :class:`Invalid` naming the bad field."""
    unknown = sorted(set(data) - _DRAFT_FIELDS)
    if unknown:
        raise Invalid(f"不明な項目があります: {', '.join(unknown)}", field=unknown[0])
    route = data.get("route")
    if not isinstance(route, str) or not route:
        raise Invalid("決裁ルート（種別）を指定してください。", field="route")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise Invalid("件名を入力してください。", field="title")
    title = clean(text.clean_line, title, "件名", "title")
    if len(title) > MAX_TITLE:
        raise Invalid(f"件名は{MAX_TITLE}文字以内で入力してください。", field="title")
    body = data.get("body") or ""
    if isinstance(body, str):
        body = clean(text.clean_text, body, "本文", "body")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise Invalid(f"本文は{MAX_BODY}文字以内で入力してください。", field="body")
    retention = data.get("retention_years")
    if retention is not None and (isinstance(retention, bool) or retention not in RETENTION_CHOICES):
        raise Invalid("保存年限は 1, 3, 5, 10, 30 年、または永年（null）です。", field="retention_years")
    submit = data.get("submit", False)
    if not isinstance(submit, bool):
        raise Invalid("submit は true か false で指定してください。", field="submit")
    choice = data.get("consult_departments")
    if choice is not None and not (
        isinstance(choice, dict)
        and all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(c, str) for c in v)
            for k, v in choice.items()
        )
    ):
        raise Invalid(
            '合議先は {"ステップ番号": ["課コード", …]} の形で指定してください。', field="consult_departments"
        )
    return DraftInput(
        route=route,
        title=title.strip(),
        body=body,
        amount=parse_amount(data.get("amount")),
        classification=_optional_text(data, "classification", MAX_CLASSIFICATION, "文書分類"),
        retention_years=retention,
        submit=submit,
        consult_departments=choice,
    )


def check_consult_choice(
    template: RouteTemplate, choice: dict[str, list[str]] | None
) -> dict[str, list[str]] | None:
    """Return the drafter's 合議 choice normalised (in the template's order), or None when the route
    offers no choice; raise :class:`Invalid` for a step or department the route does not offer."""
    offered = {str(i): step.choosable_departments() for i, step in enumerate(template.steps) if step.choose}
    choice = choice or {}
    for key, codes in choice.items():
        if key not in offered:
            raise Invalid("この決裁ルートでは、その合議先を選べません。", field="consult_departments")
        unknown = sorted(set(codes) - set(offered[key]))
        if unknown:
            raise Invalid(f"選べない合議先の課コードです: {unknown[0]}", field="consult_departments")
    if not offered:
        return None
    return {key: [c for c in codes if c in set(choice.get(key, ()))] for key, codes in offered.items()}


def effective_template(template_row: Any, choice: dict[str, list[str]] | None) -> RouteTemplate:
    """Return the stored template with the drafter's 合議 choice applied (what resolution uses)."""
    return apply_consult_choice(route_store.parsed(template_row), choice)


# -- reading --------------------------------------------------------------------------------------


def state_of(row: ApprovalRequest) -> RequestState:
    """Return the machine state stored on ``row``."""
    return RequestState.from_dict(row.state)


def preview_route(row: ApprovalRequest) -> tuple[list[ResolvedStep], UnresolvableApprover | None]:
    """Return the route a draft would get if submitted now (nothing is frozen), or the error."""
    template = route_store.latest(row.route_key) or row.template
    try:
        choice = check_consult_choice(route_store.parsed(template), row.consult_choice)
    except Invalid:
        choice = None  # the route changed since the draft chose; the page asks again
    try:
        steps = resolve_route(
            effective_template(template, choice), person_of(row.drafter), row.amount, DbDirectory()
        )
    except UnresolvableApprover as error:
        return [], error
    return steps, None


def preview_for(
    user: User, route_key: str, amount: Any, choice: dict[str, list[str]] | None = None
) -> tuple[Any, list[ResolvedStep], UnresolvableApprover | None]:
    """Return (template row, steps, error): the route ``user`` would get for ``amount`` if drafting now.

    Nothing is written. Raises :class:`NotFound` for an unknown route and :class:`Invalid` for a bad
    amount; an approver that cannot be resolved is returned as the error, not raised.
    """
    parsed_amount = parse_amount(amount)
    template_row = route_store.latest(route_key)
    if template_row is None:
        raise NotFound("決裁ルートが見つかりません。")
    if user.department is None:
        raise Invalid("所属課が登録されていないため起案できません。管理者に連絡してください。")
    template = effective_template(
        template_row, check_consult_choice(route_store.parsed(template_row), choice)
    )
    try:
        steps = resolve_route(template, person_of(user), parsed_amount, DbDirectory())
    except UnresolvableApprover as error:
        return template_row, [], error
    return template_row, steps, None


# -- writing --------------------------------------------------------------------------------------


def _now(at: dt.datetime | None) -> dt.datetime:
    return at if at is not None else calendar.now()


def _notify(
    effects: Iterable[fx.Effect],
    row: ApprovalRequest,
    actor: User,
    absences: dict[int, int],
    comment: str | None,
) -> None:
    """Write the 通知 the effects call for and queue the inbox event; both go out only after commit."""
    payload = {"id": row.id, "title": row.title}
    for effect in effects:
        if isinstance(effect, fx.Assigned):
            # The deputy of an absent approver sees the item in his inbox, so he is told too.
            ids = set(effect.user_ids) | {absences[u] for u in effect.user_ids if u in absences}
            realtime.notify_on_commit(ids, "approval:assigned", payload)
    notices.for_transition(effects, row, actor, absences, comment)


def _assign_number(row: ApprovalRequest, template_format: str, at: dt.datetime) -> None:
    if row.document_number is not None:  # a number once issued stays with the request
        return
    number, year, seq = numbering.issue(template_format, row.department.prefix, calendar.to_jst(at).date())
    row.document_number, row.number_fiscal_year, row.number_seq = number, year, seq


def announce_changed(request_id: int, status: str) -> None:
    """Send ``approval_changed`` inside the change's transaction, just before it commits.

    Receivers only owe work (an outbox row, an index row) on the same session, so what they owe
    commits with the change or not at all; a receiver that raises undoes the change with it.
    """
    signals.approval_changed.send(current_app._get_current_object(), request_id=request_id, status=status)


def _record_version(row: ApprovalRequest, at: dt.datetime) -> None:
    """Keep what this submission says (one row per 起案 / 再提出, never changed afterwards)."""
    session = db.session()
    last = session.scalar(select(func.max(ApprovalVersion.n)).where(ApprovalVersion.request_id == row.id))
    session.add(
        ApprovalVersion(
            request_id=row.id,
            n=(last or 0) + 1,
            submitted_at=at,
            title=row.title,
            body=row.body or "",
            amount=row.amount,
            attachments=list(row.attachments_frozen or []),
        )
    )


def _commit(
    row: ApprovalRequest,
    transition: machine.Transition,
    actor: User,
    action: str,
    at: dt.datetime,
    absences: dict[int, int],
) -> ApprovalRequest:
    """Write a transition with everything derived from it; announce it after the unit commits."""
    session = db.session()
    new = transition.state
    row.state, row.version, row.status, row.updated_at = new.to_dict(), new.version, new.status, at
    decided = any(isinstance(e, fx.Decided) for e in transition.effects)
    if action == "submit":
        row.submitted_at = at
    if action in ("submit", "resubmit"):
        # The attachment list is frozen with each file's SHA-256; the drafter can change it again
        # only after a 差戻し to him, and the next 再提出 freezes it anew.
        row.attachments_frozen = attachments.snapshot(row.id)
        _record_version(row, at)
    if decided:
        row.decided_at = at
    if any(isinstance(e, fx.NumberDue) for e in transition.effects):
        _assign_number(row, row.template.definition.get("number_format", "{dept_prefix}第{n}号"), at)
    inbox.sync_tasks(row.id, new, at)
    entry = new.history[-1]
    audit.record(
        f"approval.{action}",
        actor=actor.username,
        target=f"approval:{row.id}",
        detail={
            "version": new.version,
            "status": new.status,
            "step": entry.step_index,
            "to_step": entry.to_step,
            "on_behalf_of": entry.on_behalf_of,
            "comment": entry.comment,
            "document_number": row.document_number,
        },
    )
    _notify(transition.effects, row, actor, absences, entry.comment)
    if decided:
        record.owe_record(row)  # rendered and signed after the commit, by the outbox worker
    announce_changed(row.id, row.status)
    try:
        session.flush()
    except StaleDataError as error:  # a concurrent writer changed the row since we read it
        raise Conflict("ほかの操作と競合しました。最新の状態を確認してください。", row.id) from error
    _wait_for_record(row.status in FINISHED)
    return row


#: Statuses a request ends in: what finishes it may owe work (the signed record, a 廃棄 settled).
FINISHED = frozenset({"approved", "rejected", "withdrawn"})


def _wait_for_record(finished: bool) -> None:
    # APPROVALS_RECORD_WAIT_SECONDS > 0 makes the request that finishes a 決裁 wait, after its
    # commit, for the work it owes (the signed record, its filing, a 廃棄 settled): the test suite
    # sees it at once. By default the request answers without waiting; the outbox worker does it.
    wait = float(current_app.config.get("APPROVALS_RECORD_WAIT_SECONDS", 0))
    if finished and wait > 0:
        db.on_commit(lambda: outbox.wait_idle(wait))


def _apply(
    row: ApprovalRequest,
    state: RequestState,
    action: str,
    actor: User,
    at: dt.datetime,
    absences: dict[int, int],
    comment: str | None = None,
    to_step: Any = None,
) -> machine.Transition:
    """Run the machine, translating its errors into service errors (403 / 409 / 422)."""
    if comment is not None and not isinstance(comment, str):
        raise Invalid("コメントは文字列で入力してください。", field="comment")
    if comment is not None:
        comment = clean(text.clean_text, comment, "コメント", "comment")
    if to_step is not None and not inputs.is_json_int(to_step):
        raise Invalid("差戻し先（to_step）はステップ番号で指定してください。", field="to_step")
    try:
        return machine.apply(
            state, action, actor.id, at=at, comment=comment, to_step=to_step, absences=absences
        )
    except machine.NotOnRoute as error:
        raise Forbidden("この起案の決裁ルートに含まれていないため、操作できません。") from error
    except machine.ActionConflict as error:
        raise Conflict(error.message_ja, row.id) from error
    except machine.InvalidAction as error:
        raise Invalid(error.message_ja) from error


def _submit_locked(row: ApprovalRequest, actor: User, at: dt.datetime) -> ApprovalRequest:
    """Resolve and freeze the route of a locked draft and start it."""
    if actor.id != row.drafter_id:
        raise Forbidden("起案できるのは起案者本人だけです。")
    state = state_of(row)
    if state.status != "draft":
        raise Conflict("この起案は既に提出されています。", row.id)
    template_row = route_store.latest(row.route_key)
    if template_row is None:
        raise Invalid("決裁ルートが削除されたため起案できません。", code="unknown_route", field="route")
    template = route_store.parsed(template_row)
    choice = check_consult_choice(template, row.consult_choice)
    try:
        steps = resolve_route(
            apply_consult_choice(template, choice), person_of(row.drafter), row.amount, DbDirectory()
        )
    except UnresolvableApprover as error:
        raise Invalid(
            f"決裁ルートの{error.step_index + 1}番目のステップ: {error.message_ja}",
            code="unresolvable_route",
            step_index=error.step_index,
        ) from error
    # The snapshot this request keeps, whatever later versions of the template say.
    row.template_id, row.template = template_row.id, template_row
    state.number_at = template.number_at
    try:
        state = machine.attach_route(state, steps)
    except machine.ActionConflict as error:
        raise Conflict(error.message_ja, row.id) from error
    absences = absence.active_map(calendar.to_jst(at).date())
    transition = _apply(row, state, "submit", actor, at, absences)
    return _commit(row, transition, actor, "submit", at, absences)


@db.writes
def create(
    drafter: User,
    data: dict[str, Any],
    at: dt.datetime | None = None,
) -> ApprovalRequest:
    """Create a draft from API data, submitting it at once when ``data["submit"]`` is true; commit.

    Another capability that writes rows referring to the request (a 廃棄 proposal, say) calls this
    inside its own write unit: both commit or neither.
    Raises :class:`Invalid` for bad input, an unknown route or (with submit) an unresolvable route —
    in which case nothing is written.
    """
    at = _now(at)
    draft = parse_draft(data)
    template_row = route_store.latest(draft.route)
    if template_row is None:
        raise Invalid(
            f"決裁ルート「{draft.route}」は登録されていません。", code="unknown_route", field="route"
        )
    if drafter.department is None:
        raise Invalid("所属課が登録されていないため起案できません。管理者に連絡してください。")
    template = route_store.parsed(template_row)
    choice = check_consult_choice(template, draft.consult_departments)
    state = new_request(drafter.id, template.number_at)
    row = ApprovalRequest(
        route_key=template.key,
        template_id=template_row.id,
        title=draft.title,
        body=draft.body,
        amount=draft.amount,
        classification=draft.classification,
        retention_years=draft.retention_years,
        consult_choice=choice,
        drafter_id=drafter.id,
        department_id=drafter.department.id,
        status=state.status,
        version=state.version,
        state=state.to_dict(),
        created_at=at,
        updated_at=at,
    )
    session = db.session()
    session.add(row)
    session.flush()
    audit.record(
        "approval.create",
        actor=drafter.username,
        target=f"approval:{row.id}",
        detail={"route": row.route_key},
    )
    if draft.submit:
        return _submit_locked(row, drafter, at)
    announce_changed(row.id, row.status)
    return row


@db.writes
def submit(actor: User, request_id: int, at: dt.datetime | None = None) -> ApprovalRequest:
    """起案: resolve and freeze the route of a draft and send it to the first approver; commit."""
    row = lock(request_id, actor)
    return _submit_locked(row, actor, _now(at))


@db.writes
def act(
    actor: User,
    request_id: int,
    action: str,
    *,
    comment: str | None = None,
    to_step: Any = None,
    at: dt.datetime | None = None,
) -> ApprovalRequest:
    """Apply ``action`` (approve, send_back, reject, pull_back, withdraw, resubmit, deputy_approve,
    acknowledge, pull_up, read — or submit) by ``actor``; commit and return the request.

    Raises :class:`NotFound` (no such request), :class:`Forbidden` (never on the route),
    :class:`Conflict` (already acted, not yet due, finished, lost a race) or :class:`Invalid`.
    """
    if not isinstance(action, str) or not action:
        raise Invalid("操作（action）を指定してください。", field="action")
    _check_comment(comment)
    at = _now(at)
    if action == "submit":
        return submit(actor, request_id, at)
    absences = absence.active_map(calendar.to_jst(at).date())
    row = lock(request_id, actor, absences)
    transition = _apply(row, state_of(row), action, actor, at, absences, comment, to_step)
    return _commit(row, transition, actor, action, at, absences)


def _check_comment(comment: Any) -> None:
    """Refuse (Invalid) a comment that is not text or is longer than the machine keeps."""
    if comment is not None and (not isinstance(comment, str) or len(comment) > machine.MAX_COMMENT):
        raise Invalid(f"コメントは{machine.MAX_COMMENT}文字以内の文字列で入力してください。", field="comment")


def bulk(actor: User, ids: Any, action: Any = "approve", comment: Any = None) -> list[dict[str, Any]]:
    """Apply one action to several requests, each in its own transaction; return a result per id.

    One failing item never undoes the others: each result is ``{"id", "ok": true, "status",
    "document_number"}`` or ``{"id", "ok": false, "error": {"code", "message"}}``.
    """
    if not isinstance(ids, list) or not ids or len(ids) > MAX_BULK:
        raise Invalid(f"ids には1〜{MAX_BULK}件の起案番号を指定してください。", field="ids")
    if not all(inputs.is_json_int(i) for i in ids):
        raise Invalid("ids は整数の配列で指定してください。", field="ids")
    if action not in BULK_ACTIONS:
        raise Invalid("一括処理できる操作は承認・代決・後閲・供覧確認だけです。", field="action")
    _check_comment(comment)  # once for all: the same comment would otherwise fail every item alike
    results: list[dict[str, Any]] = []
    for request_id in dict.fromkeys(ids):  # once per id, in the given order
        try:
            row = act(actor, request_id, action, comment=comment)
        except ApprovalError as error:
            results.append(
                {"id": request_id, "ok": False, "error": {"code": error.code, "message": error.message}}
            )
        else:
            results.append(
                {"id": row.id, "ok": True, "status": row.status, "document_number": row.document_number}
            )
    return results
