"""The API shape of a request: the exact public fields plus what the pages need to draw it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from approvals import absence, machine
from approvals.attachments import EDITABLE, attachment_json, list_for
from approvals.labels import history_label
from approvals.models import ApprovalRequest, ApprovalVersion
from approvals.resolution import ResolvedStep
from approvals.service import preview_route
from approvals.state import RequestState, Step, step_status
from workspace import calendar, db
from workspace.models import User


def _people(ids: set[int]) -> dict[int, tuple[str, str]]:
    """Return {user id: (username, 氏名)}."""
    if not ids:
        return {}
    rows = db.session().execute(select(User.id, User.username, User.display_name).where(User.id.in_(ids)))
    return {uid: (username, name) for uid, username, name in rows}


def _step_json(step: Step, names: dict[int, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"index": step.index, "kind": step.kind}
    if step.mode is not None:
        out["mode"] = step.mode
    if step.label is not None:
        out["label"] = step.label
    out["approvers"] = [
        {
            "username": slot.person.username,
            "display_name": slot.person.display_name,
            "department": slot.person.department_name,
            "title": slot.person.title,
            "status": slot.status,
            **({"skip_reason": slot.skip_reason} if slot.skip_reason else {}),
            **({"acted_by": names.get(slot.acted_by)} if slot.acted_by is not None else {}),
            **({"acted_at": slot.acted_at} if slot.acted_at else {}),
        }
        for slot in step.slots
    ]
    out["status"] = step_status(step)
    if step.skip_reason:
        out["skip_reason"] = step.skip_reason
    return out


def preview_step_json(step: ResolvedStep) -> dict[str, Any]:
    out: dict[str, Any] = {"index": step.index, "kind": step.kind}
    if step.mode is not None:
        out["mode"] = step.mode
    if step.label is not None:
        out["label"] = step.label
    out["approvers"] = [
        {
            "username": a.person.username,
            "display_name": a.person.display_name,
            "department": a.person.department_name,
            "title": a.person.title,
            "status": "skipped" if a.skipped else "waiting",
            **({"skip_reason": a.skipped} if a.skipped else {}),
        }
        for a in step.approvers
    ]
    out["status"] = "skipped" if step.skipped else "waiting"
    if step.skipped:
        out["skip_reason"] = step.skipped
    return out


def route_preview_json(template_row: Any, steps: list[ResolvedStep], error: Any) -> dict[str, Any]:
    """Return ``{"route": {"key", "version", "name"}, "steps": […], "route_error"?}`` for a preview."""
    out: dict[str, Any] = {
        "route": {"key": template_row.key, "version": template_row.version, "name": template_row.name},
        "steps": [preview_step_json(step) for step in steps],
    }
    if error is not None:
        out["route_error"] = {"message": error.message_ja, "step_index": error.step_index}
    return out


def versions_json(request_id: int) -> list[dict[str, Any]]:
    """Return one ``{"n", "submitted_at", "title", "body", "amount", "attachments"}`` per submission."""
    rows = (
        db.session()
        .execute(
            select(ApprovalVersion)
            .where(ApprovalVersion.request_id == request_id)
            .order_by(ApprovalVersion.n)
        )
        .scalars()
    )
    return [
        {
            "n": v.n,
            "submitted_at": calendar.isoformat(v.submitted_at),
            "title": v.title,
            "body": v.body,
            "amount": v.amount,
            "attachments": list(v.attachments or []),
        }
        for v in rows
    ]


def send_back_reason(state: RequestState) -> str | None:
    """Return the comment of the 差戻し that sent the request back to its drafter ("" when none given).

    None unless the request is sent back now. A 引戻し by the drafter also leaves it ``sent_back``;
    then there is no reason to show.
    """
    if state.status != "sent_back":
        return None
    for entry in reversed(state.history):
        if entry.action == "send_back":
            return entry.comment or ""
        if entry.action == "pull_back":
            return None
    return None


def request_json(
    row: ApprovalRequest, viewer: User | None = None, absences: dict[int, int] | None = None
) -> dict[str, Any]:
    """Return ``{"id", "status", "document_number", "steps": […], …}`` for the API and pages.

    With a ``viewer``, ``allowed_actions`` lists what that person may do now (the same function the
    server enforces with). A draft shows the route it would get if submitted now (``preview``).
    """
    state = RequestState.from_dict(row.state)
    people = _people(
        {s.acted_by for st in state.steps for s in st.slots if s.acted_by is not None}
        | {h.actor_id for h in state.history}
        | {h.on_behalf_of for h in state.history if h.on_behalf_of is not None}
        | {p.user_id for p in state.post_reviews}
    )
    names = {uid: username for uid, (username, _) in people.items()}
    display = {uid: name for uid, (_, name) in people.items()}
    out: dict[str, Any] = {
        "id": row.id,
        "status": row.status,
        "document_number": row.document_number,
        "title": row.title,
        "body": row.body,
        "amount": row.amount,
        "classification": row.classification,
        "retention_years": row.retention_years,
        "route": {"key": row.route_key, "version": row.template.version, "name": row.template.name},
        "drafter": {
            "username": row.drafter.username,
            "display_name": row.drafter.display_name,
            "department": row.department.name,
        },
        "version": row.version,
        "current_step": state.current,
        "created_at": calendar.isoformat(row.created_at),
        "submitted_at": calendar.isoformat(row.submitted_at),
        "decided_at": calendar.isoformat(row.decided_at),
        "updated_at": calendar.isoformat(row.updated_at),
    }
    if state.steps:
        out["steps"] = [_step_json(step, names) for step in state.steps]
    else:
        steps, error = preview_route(row)
        out["steps"] = [preview_step_json(step) for step in steps]
        out["preview"] = True
        if error is not None:
            out["route_error"] = {"message": error.message_ja, "step_index": error.step_index}
    out["history"] = [
        {
            "version": h.version,
            "action": h.action,
            "label": history_label(h, state),
            "actor": names.get(h.actor_id),
            "actor_name": display.get(h.actor_id),
            "at": h.at,
            "on_behalf_of": names.get(h.on_behalf_of) if h.on_behalf_of is not None else None,
            "on_behalf_of_name": display.get(h.on_behalf_of) if h.on_behalf_of is not None else None,
            "comment": h.comment,
            "step_index": h.step_index,
            "to_step": h.to_step,
        }
        for h in state.history
    ]
    # The current list (what a download serves); "frozen" once submitted and not sent back.
    out["attachments"] = [attachment_json(a) for a in list_for(row.id)]
    out["attachments_frozen"] = row.attachments_frozen is not None and row.status not in EDITABLE
    out["versions"] = versions_json(row.id)
    out["send_back_reason"] = send_back_reason(state)
    if row.consult_choice is not None:
        out["consult_departments"] = row.consult_choice
    out["post_reviews"] = [
        {
            "username": names.get(p.user_id),
            "step_index": p.step_index,
            "reason": p.reason,
            "acknowledged_at": p.acknowledged_at,
        }
        for p in state.post_reviews
    ]
    if viewer is not None:
        absences = absence.active_map() if absences is None else absences
        allowed = machine.allowed_actions(state, viewer.id, absences)
        if state.status == "draft" and viewer.id == row.drafter_id:
            allowed.add("submit")  # the route is attached at submission, so the probe cannot see it
        out["allowed_actions"] = sorted(allowed)
    return out
