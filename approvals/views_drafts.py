"""Pages for changing a request before approvers see it: 編集 (a draft, or after a 差戻し), 削除 (a
draft) and 引用起案. Routes are added to the approvals page blueprint (``views.bp``).

Like the other approval pages these are plain forms posting back here, so they work without
JavaScript; the views parse the form, call :mod:`approvals.editing` and redirect with the outcome.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from approvals import access, attachments, editing, route_store, service
from approvals import attachment_store as store
from approvals.consult_picker import all_consult_options, choice_from_form
from approvals.errors import ApprovalError
from approvals.serialize import request_json
from approvals.views import _form_int, bp
from workspace import inputs


def _form_values(row: Any) -> dict[str, Any]:
    """Return the edit form's fields as the PATCH body (only what the status allows)."""
    values: dict[str, Any] = {
        "title": request.form.get("title", ""),
        "body": request.form.get("body", ""),
        "amount": _form_int("amount"),
        "classification": request.form.get("classification") or None,
        "retention_years": _form_int("retention_years"),
    }
    if row.status == "draft":
        values["route"] = request.form.get("route") or row.route_key
        values["consult_departments"] = choice_from_form(request.form, values["route"])
    return values


@bp.route("/<int:request_id>/edit", methods=["GET", "POST"])
@login_required
def edit(request_id: int) -> Any:
    """編集: the draft form again, filled in; after a 差戻し the route stays as it was sent."""
    try:
        row = access.get_visible(current_user, request_id)
    except ApprovalError:
        abort(404)
    if current_user.id != row.drafter_id or row.status not in attachments.EDITABLE:
        flash("この起案は今は編集できません。", "error")
        return redirect(url_for("approvals.detail", request_id=request_id))
    error, status = None, 200
    values = {
        "route": row.route_key,
        "title": row.title,
        "body": row.body,
        "amount": row.amount,
        "classification": row.classification,
        "retention_years": row.retention_years,
        "consult_departments": row.consult_choice,
    }
    if request.method == "POST":
        values = _form_values(row)
        try:
            row = editing.update(current_user, request_id, values)
        except ApprovalError as exc:
            error, status = exc, 422
        else:
            return _apply_files(row)
    return render_template(
        "approvals/edit.html",
        r=request_json(row, current_user),
        values=values,
        error=error,
        routes=route_store.list_latest() if row.status == "draft" else [],
        consult=all_consult_options(
            route_store.list_latest() if row.status == "draft" else [],
            values.get("route"),
            values.get("consult_departments"),
        ),
        retention=service.RETENTION_CHOICES,
        max_size=store.human_size(store.max_bytes()),
    ), status


def _apply_files(row: Any) -> Any:
    """Remove the ticked attachments and add the chosen files; say what happened on the request page."""
    problems = []
    for value in request.form.getlist("remove"):
        if (attachment_id := inputs.parse_id(value)) is not None:
            try:
                attachments.remove(current_user, row.id, attachment_id)
            except ApprovalError as exc:
                problems.append(exc.message)
    for upload in request.files.getlist("attachments"):
        if upload.filename:
            try:
                attachments.add(current_user, row.id, upload.stream, upload.filename)
            except ApprovalError as exc:
                problems.append(f"{upload.filename}: {exc.message}")
    word = (
        "下書きを保存しました。"
        if row.status == "draft"
        else "修正を保存しました。内容を確かめて再提出してください。"
    )
    flash(word, "info")
    for problem in problems:
        flash(problem, "error")
    return redirect(url_for("approvals.detail", request_id=row.id))


@bp.post("/<int:request_id>/delete")
@login_required
def delete(request_id: int) -> Any:
    """削除 of a draft (the page asked to confirm); back to the inbox."""
    try:
        editing.delete_draft(current_user, request_id)
    except ApprovalError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "error")
        return redirect(url_for("approvals.detail", request_id=request_id))
    flash("下書きを削除しました。", "info")
    return redirect(url_for("approvals.index"))


@bp.post("/<int:request_id>/copy")
@login_required
def copy(request_id: int) -> Any:
    """引用起案: a new draft from this request, opened in the edit form."""
    try:
        row = editing.copy(current_user, request_id, {"attachments": request.form.get("attachments") == "1"})
    except ApprovalError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "error")
        return redirect(url_for("approvals.detail", request_id=request_id))
    flash("引用起案の下書きを作りました。内容を直して起案してください。", "info")
    return redirect(url_for("approvals.edit", request_id=row.id))
