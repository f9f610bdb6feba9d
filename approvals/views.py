"""Pages of 電子決裁: inbox, draft form, request detail (route diagram, seals, buttons), absences.

Plain HTML forms posting back here (with the CSRF token), so every page works without JavaScript, by
keyboard and on a phone. Views only parse the form, call the service and render; the buttons shown
are exactly ``allowed_actions`` — the function the server enforces with.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from approvals import absence, access, attachments, changes, inbox, record, route_store, service, verification
from approvals import attachment_store as store
from approvals.api_attachments import download_response
from approvals.consult_picker import all_consult_options, choice_from_form
from approvals.errors import ApprovalError
from approvals.labels import (
    ACTION_LABELS,
    KIND_LABELS,
    SLOT_LABELS,
    STATUS_LABELS,
    approve_label,
    decide_label,
)
from approvals.seal import seal_svg
from approvals.serialize import request_json, route_preview_json
from approvals.state import RequestState
from workspace import calendar, inputs

bp = Blueprint(
    "approvals", __name__, url_prefix="/approvals", static_folder="static", static_url_path="/static"
)

# The buttons of the detail page, in display order: (action, label, style).
BUTTONS = tuple(
    (action, ACTION_LABELS[action], style)
    for action, style in (
        ("submit", "primary"),
        ("approve", "primary"),
        ("deputy_approve", "primary"),
        ("pull_up", ""),
        ("send_back", ""),
        ("pull_back", ""),
        ("resubmit", "primary"),
        ("acknowledge", "primary"),
        ("read", "primary"),
        ("withdraw", "danger"),
        ("reject", "danger"),
    )
)
# Actions that end or turn back someone's work: the page asks for a reason in a dialog.
REASON_REQUIRED = {action: ACTION_LABELS[action] for action in ("send_back", "reject")}
# Actions the page asks to confirm: (the dialog's question, its confirming button).
CONFIRM = {
    "send_back": ("差し戻しますか？", "差し戻す"),
    "reject": ("却下しますか？却下した起案は元に戻せません。", "却下する"),
    "withdraw": ("取り下げますか？取り下げた起案は元に戻せません。", "取り下げる"),
    "pull_back": ("引き戻しますか？次の人はまだ処理していません。", "引き戻す"),
}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "kind_labels": KIND_LABELS,
        "slot_labels": SLOT_LABELS,
        "confirm_questions": CONFIRM,
        "reason_required": REASON_REQUIRED,
    }


def _form_int(name: str) -> int | None:
    value = (request.form.get(name) or "").strip().replace(",", "")
    if not value:
        return None
    number = inputs.parse_int(value, 0, inputs.ID_MAX)  # ASCII digits only: "²" is not a number here
    return -1 if number is None else number  # the service refuses -1 with the proper message


@bp.get("/")
@login_required
def index() -> Any:
    """The inbox: 未処理, 起案中, 後閲, 供覧, 処理済み."""
    box = inbox.inbox(current_user, limit=100)
    inbox.with_quick_actions(current_user, box["pending"])
    kinds = sorted({item["route_name"] for item in box["pending"]})
    return render_template("approvals/inbox.html", box=box, kinds=kinds)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    """The draft form; 下書き保存 keeps a draft, 起案する submits at once."""
    routes = route_store.list_latest()
    values: dict[str, Any] = {}
    error = None
    status = 200
    if request.method == "POST":
        values = {
            "route": request.form.get("route", ""),
            "title": request.form.get("title", ""),
            "body": request.form.get("body", ""),
            "amount": _form_int("amount"),
            "classification": request.form.get("classification") or None,
            "retention_years": _form_int("retention_years"),
            "submit": request.form.get("submit") == "1",
        }
        choice = choice_from_form(request.form, values["route"])
        if choice is not None:
            values["consult_departments"] = choice
        files = [f for f in request.files.getlist("attachments") if f.filename]
        try:
            # With files, the draft is saved first and submitted only once every file is attached.
            row = service.create(current_user, {**values, "submit": values["submit"] and not files})
        except ApprovalError as exc:
            error, status = exc, 422
        else:
            if files:
                return _attach_then_submit(row, files, values["submit"])
            flash("起案しました。" if row.status != "draft" else "下書きを保存しました。", "info")
            return redirect(url_for("approvals.detail", request_id=row.id))
    selected = values.get("route") or (routes[0].key if routes else None)
    amount = values.get("amount")
    preview = _preview_context(
        selected, amount if amount is None or amount >= 0 else None, values.get("consult_departments")
    )
    return render_template(
        "approvals/new.html",
        current_step=None,
        **preview,
        consult=all_consult_options(routes, selected, values.get("consult_departments")),
        routes=routes,
        values=values,
        error=error,
        retention=service.RETENTION_CHOICES,
        max_size=store.human_size(store.max_bytes()),
    ), status


def _preview_context(route_key: str | None, amount: Any, choice: Any = None) -> dict[str, Any]:
    """Return the template variables of the route preview (steps or a Japanese error)."""
    if not route_key:
        return {"steps": [], "preview_error": None, "route_name": None}
    try:
        template_row, steps, error = service.preview_for(current_user, route_key, amount, choice)
    except ApprovalError as exc:
        return {"steps": [], "preview_error": exc.message, "route_name": None}
    data = route_preview_json(template_row, steps, error)
    return {
        "steps": data["steps"],
        "preview_error": data.get("route_error", {}).get("message"),
        "route_name": template_row.name,
    }


@bp.get("/route-preview")
@login_required
def route_preview() -> Any:
    """The route diagram for ?route=&amount= as an HTML fragment (the draft form swaps it in)."""
    raw = (request.args.get("amount") or "").strip().replace(",", "")
    amount: int | None = None
    if raw:
        parsed = inputs.parse_int(raw, 0, inputs.ID_MAX)  # "²" passes isdigit() but is no amount
        amount = -1 if parsed is None else parsed  # the service refuses -1 with the proper message
    route_key = request.args.get("route")
    context = _preview_context(route_key, amount, choice_from_form(request.args, route_key))
    return render_template("approvals/_route_preview.html", current_step=None, **context)


def _attach_then_submit(row: Any, files: list[Any], submit: bool) -> Any:
    """Attach the draft form's files, then submit if asked; on a refused file keep the draft and say why."""
    for upload in files:
        try:
            attachments.add(current_user, row.id, upload.stream, upload.filename)
        except ApprovalError as exc:
            flash(f"下書きを保存しましたが、{upload.filename} を添付できませんでした: {exc.message}", "error")
            return redirect(url_for("approvals.detail", request_id=row.id))
    if submit:
        try:
            row = service.submit(current_user, row.id)
        except ApprovalError as exc:
            flash(f"下書きを保存しましたが、起案できませんでした: {exc.message}", "error")
            return redirect(url_for("approvals.detail", request_id=row.id))
    flash("起案しました。" if row.status != "draft" else "下書きを保存しました。", "info")
    return redirect(url_for("approvals.detail", request_id=row.id))


def _boxes(row: Any) -> dict[int, list[Markup | None]]:
    """Return the seal SVGs per step index, one entry per approver (None when not stamped)."""
    state = RequestState.from_dict(row.state)
    seals: dict[int, list[Markup | None]] = {}
    imprints = {(b.step_index, b.user_id): b.imprint for b in record.stamp_boxes(state)}
    for step in state.steps:
        seals[step.index] = []
        for slot in step.slots:
            imprint = imprints.get((step.index, slot.user_id))
            # seal_svg escapes every text it draws, so the markup is safe to insert.
            seals[step.index].append(Markup(seal_svg(imprint, 56)) if imprint else None)  # noqa: S704
    return seals


def _decider_label(button: tuple[str, str, str], data: dict[str, Any]) -> tuple[str, str, str]:
    """On the 決裁 step the approve button says 決裁, or 専決 where a 専決 rule decides (never 承認)."""
    action, label, style = button
    steps = {step["index"]: step for step in data.get("steps", [])}
    step = steps.get(data.get("current_step"))
    if action == "approve" and step is not None:
        label = approve_label(step["kind"], step.get("label"))
    return action, label, style


@bp.get("/<int:request_id>")
@login_required
def detail(request_id: int) -> Any:
    """The request: header, route diagram with seals, buttons allowed now, history."""
    try:
        row = access.get_visible(current_user, request_id)
    except ApprovalError:
        abort(404)
    data = request_json(row, current_user)
    buttons = [_decider_label(b, data) for b in BUTTONS if b[0] in data["allowed_actions"]]
    is_drafter = current_user.id == row.drafter_id
    can_attach = is_drafter and row.status in attachments.EDITABLE
    return render_template(
        "approvals/detail.html",
        r=data,
        buttons=buttons,
        seals=_boxes(row),
        can_attach=can_attach,
        can_edit=can_attach,
        can_delete=is_drafter and row.status == "draft",
        changes=changes.since_previous(data["versions"]),
        fiscal_year=calendar.fiscal_year_label(row.number_fiscal_year) if row.number_fiscal_year else None,
        max_size=store.human_size(store.max_bytes()),
    )


@bp.post("/<int:request_id>/attachments")
@login_required
def attach(request_id: int) -> Any:
    """Attach the chosen file to the draft, then show the request again with the outcome."""
    upload = request.files.get("file")
    try:
        added = attachments.add(
            current_user,
            request_id,
            upload.stream if upload is not None and upload.filename else None,
            upload.filename if upload is not None else None,
        )
    except ApprovalError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "error")
    else:
        flash(f"{added.name} を添付しました。", "info")
    return redirect(url_for("approvals.detail", request_id=request_id))


@bp.post("/<int:request_id>/attachments/<int:attachment_id>/delete")
@login_required
def detach(request_id: int, attachment_id: int) -> Any:
    """Remove an attachment from the draft."""
    try:
        attachments.remove(current_user, request_id, attachment_id)
    except ApprovalError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "error")
    else:
        flash("添付ファイルを削除しました。", "info")
    return redirect(url_for("approvals.detail", request_id=request_id))


@bp.get("/<int:request_id>/attachments/<int:attachment_id>")
@login_required
def download(request_id: int, attachment_id: int) -> Any:
    """Download an attachment (anyone who may see the request)."""
    try:
        return download_response(request_id, attachment_id)
    except ApprovalError:
        abort(404)


@bp.post("/<int:request_id>/act")
@login_required
def act(request_id: int) -> Any:
    """Apply the pressed button's action, then show the request again with the outcome."""
    action = request.form.get("action", "")
    comment = (request.form.get("comment") or "").strip() or None
    to_step = _form_int("to_step") if action == "send_back" else None
    if action in REASON_REQUIRED and not comment:
        # The page's dialog asks for the reason; this catches a form posted without it.
        flash(f"{REASON_REQUIRED[action]}の理由を入力してください。", "error")
        return redirect(url_for("approvals.detail", request_id=request_id))
    try:
        row = service.act(current_user, request_id, action, comment=comment, to_step=to_step)
    except ApprovalError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "error")
    else:
        label = done_label(action, request_json(row))
        flash(
            f"{label}しました。" + (f"（文書番号 {row.document_number}）" if row.document_number else ""),
            "info",
        )
    return redirect(url_for("approvals.detail", request_id=request_id))


def done_label(action: str, data: dict[str, Any]) -> str:
    """Return the word for what an action just did: 決裁 / 専決 when it decided, 承認 for an
    intermediate approval, else the action's own word."""
    if action in ("approve", "deputy_approve") and data["status"] == "approved":
        if action == "deputy_approve":
            return ACTION_LABELS["deputy_approve"]
        return decide_label(data["steps"][-1].get("label"))
    return ACTION_LABELS.get(action, action)


def db_get_visible(request_id: int) -> Any:
    """Return the request if the current user may see it, else None."""
    try:
        return access.get_visible(current_user, request_id)
    except ApprovalError:
        return None


@bp.post("/bulk")
@login_required
def bulk() -> Any:
    """Apply one action (決裁/承認 or 代決) to the checked items of the inbox; report each result."""
    ids = [i for i in map(inputs.parse_id, request.form.getlist("ids")) if i is not None]
    action = request.form.get("action", "approve")
    if action not in ("approve", "deputy_approve"):
        action = "approve"
    if not ids:
        flash("一括処理する起案を選んでください。", "error")
        return redirect(url_for("approvals.index"))
    # The page offers bulk processing only for items that take the same action; the server checks it
    # again, so a stale page or a hand-made form cannot 決裁 an item its sender took for a 承認.
    expected = request.form.get("label") or None
    if expected is not None:
        absences = absence.active_map()
        refused = []
        for request_id in list(ids):
            row = db_get_visible(request_id)
            found = row and inbox.quick_action(RequestState.from_dict(row.state), current_user.id, absences)
            if not found or found != (action, expected):
                ids.remove(request_id)
                refused.append(row.title if row else f"起案 {request_id}")
        for title in refused:
            flash(f"{title}: {expected}できる起案ではないため処理しませんでした。", "error")
        if not ids:
            return redirect(url_for("approvals.index"))
    try:
        results = service.bulk(current_user, ids, action)
    except ApprovalError as exc:
        flash(exc.message, "error")
        return redirect(url_for("approvals.index"))
    words: dict[str, int] = {}
    for result in results:
        if result["ok"]:
            word = done_label(action, request_json(access.get_visible(current_user, result["id"])))
            words[word] = words.get(word, 0) + 1
    if words:
        flash("、".join(f"{n}件を{word}" for word, n in words.items()) + "しました。", "info")
    for result in results:
        if not result["ok"]:
            flash(f"起案 {result['id']}: {result['error']['message']}", "error")
    return redirect(url_for("approvals.index"))


@bp.route("/verify", methods=["GET", "POST"])
@login_required
def verify() -> Any:
    """Check an uploaded 起案用紙 PDF: 有効 / 無効 with the reason, and which request it records."""
    if request.method == "GET":
        return render_template("approvals/verify.html", result=None, error=None)
    upload = request.files.get("pdf")
    limit = int(current_app.config.get("APPROVALS_VERIFY_MAX_BYTES", 20 * 1024 * 1024))
    data = upload.stream.read(limit + 1) if upload is not None and upload.filename else b""
    error = None
    if not data:
        error = "検証するPDFファイルを選んでください。"
    elif len(data) > limit:
        error = f"ファイルが大きすぎます（上限 {store.human_size(limit)}）。"
    if error:
        return render_template("approvals/verify.html", result=None, error=error), 400
    try:
        result = verification.check(data, current_user)
    except verification.KeysMissing:
        error = "この村の署名鍵が設定されていないため検証できません。管理者に連絡してください。"
        return render_template("approvals/verify.html", result=None, error=error), 503
    return render_template("approvals/verify.html", result=result, error=None, filename=upload.filename)


@bp.route("/absence", methods=["GET", "POST"])
@login_required
def absences() -> Any:
    """不在設定: list, register, cancel."""
    status = 200
    if request.method == "POST":
        try:
            if request.form.get("cancel"):
                absence.cancel(current_user, inputs.parse_id(request.form["cancel"]))
                flash("不在設定を取り消しました。", "info")
            else:
                data = {k: request.form.get(k) or None for k in ("deputy", "from", "until", "note")}
                absence.register(current_user, data)
                flash("不在設定を登録しました。", "info")
            return redirect(url_for("approvals.absences"))
        except (ApprovalError, ValueError) as exc:
            flash(getattr(exc, "message", "入力内容を確認してください。"), "error")
            status = 422
    rows = [absence.absence_json(a) for a in absence.current_and_future(current_user)]
    # After a refused entry the form keeps what was typed (the person corrects, not retypes).
    form = request.form if status == 422 else {}
    return render_template("approvals/absence.html", absences=rows, form=form), status
