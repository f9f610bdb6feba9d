"""決裁ルート in 管理 (``/admin/routes``, role admin) and its API: list and history, the diagram of a
route, the form editor with live validation, JSON import/export, and the 「試算」.

Thin: the rules are in :mod:`approvals.route_editor` (and :mod:`approvals.routes` under it); these
views read the form, call the service and render. The editor's buttons 追加・削除・上へ・下へ post the
form back and the page comes back changed (nothing is saved until 保存); ``route-editor.js`` only asks
``POST /admin/routes/check`` for the messages and the diagram while one types.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from approvals import route_editor, route_store
from approvals.api import bp as api_bp
from approvals.errors import Invalid
from approvals.route_editor import RouteProblems
from approvals.serialize import route_preview_json
from workspace import inputs
from workspace.admin import api_role, page_role
from workspace.web import json_body

bp = Blueprint("approvals_admin", __name__, url_prefix="/admin/routes")

#: Why someone on a 試算 would not be asked.
SKIP_WORDS = {
    "drafter": "起案者本人のため省略",
    "duplicate": "前の段と同じ人のため省略",
    "vacant": "空席のため省略",
}


def _problems_by_field(error: RouteProblems | None) -> dict[str, str]:
    """Return {field: the message(s) shown next to it}."""
    out: dict[str, str] = {}
    for problem in error.problems if error is not None else []:
        out[problem["field"]] = (out[problem["field"]] + " " if problem["field"] in out else "") + problem[
            "message"
        ]
    return out


def _editor_context(state: dict[str, Any], error: RouteProblems | None, *, is_new: bool) -> dict[str, Any]:
    diagram = None
    if error is None:
        try:
            diagram = route_editor.diagram_steps(route_editor.check(route_editor.definition_from_form(state)))
        except RouteProblems:
            diagram = None
    return {
        "state": state,
        "errors": _problems_by_field(error),
        "error_list": error.problems if error is not None else [],
        "is_new": is_new,
        "diagram": diagram,
        "titles": route_editor.known_titles(),
        "users": route_editor.user_choices(),
        "departments": route_editor.department_choices(),
        "relation_labels": route_editor.RELATION_LABELS,
        "rule_types": route_editor.RULE_TYPES,
    }


def _list_context(import_error: RouteProblems | None = None, import_text: str = "") -> dict[str, Any]:
    rows = route_store.list_latest()
    return {
        "routes": [(row, route_editor.history(row.key)) for row in rows],
        "import_errors": _problems_by_field(import_error),
        "import_problems": import_error.problems if import_error is not None else [],
        "import_text": import_text,
    }


@bp.get("")
@page_role("admin")
def index() -> Any:
    """The list of route templates, each with its version history; the JSON import form."""
    return render_template("approvals/admin_routes.html", **_list_context())


@bp.post("/import")
@page_role("admin")
def import_route() -> Any:
    """Import a route (pasted JSON or a .json file); the same key again makes a new version."""
    upload = request.files.get("file")
    text = request.form.get("definition", "")
    if upload is not None and upload.filename:
        raw = upload.read(route_editor.MAX_IMPORT_CHARS * 4 + 1)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            error = RouteProblems(
                [{"field": "definition", "message": "JSONファイルはUTF-8で保存してください。"}]
            )
            return render_template("approvals/admin_routes.html", **_list_context(error, "")), 422
    try:
        row = route_editor.import_json(text, current_user)
    except RouteProblems as error:
        return render_template("approvals/admin_routes.html", **_list_context(error, text)), 422
    flash(f"「{row.name}」を第{row.version}版として取り込みました。", "info")
    return redirect(url_for("approvals_admin.view", key=row.key))


@bp.route("/new", methods=["GET", "POST"])
@page_role("admin")
def new() -> Any:
    """The editor for a new route."""
    return _edit(None)


@bp.route("/<key>/edit", methods=["GET", "POST"])
@page_role("admin")
def edit(key: str) -> Any:
    """The editor of an existing route: saving makes its next version."""
    return _edit(key)


def _edit(key: str | None) -> Any:
    if request.method == "GET":
        if key is None:
            state = route_editor.new_state()
        else:
            state = route_editor.state_of_template(route_store.parsed(route_editor.version(key)))
        return render_template(
            "approvals/admin_route_edit.html", **_editor_context(state, None, is_new=key is None)
        )
    if key is not None:
        route_editor.version(key)  # 404 for an unknown key
    state = route_editor.form_state(request.form)
    if key is not None:
        state["key"] = key  # the key of an existing route is not a field
    op = request.form.get("op", "save")
    if op != "save":
        state = route_editor.apply_op(state, op)
        return render_template(
            "approvals/admin_route_edit.html", **_editor_context(state, None, is_new=key is None)
        )
    try:
        row = route_editor.save(route_editor.definition_from_form(state), current_user, key=key)
    except RouteProblems as error:
        context = _editor_context(state, error, is_new=key is None)
        return render_template("approvals/admin_route_edit.html", **context), 422
    flash(f"「{row.name}」を第{row.version}版として保存しました。提出済みの起案は元の版のままです。", "info")
    return redirect(url_for("approvals_admin.view", key=row.key))


@bp.post("/check")
@page_role("admin")
def check() -> Any:
    """The editor's live validation: ``{"ok", "problems": [{"field", "message"}], "diagram"}`` (HTML)."""
    state = route_editor.form_state(request.form)
    try:
        template = route_editor.check(route_editor.definition_from_form(state))
    except RouteProblems as error:
        return jsonify({"ok": False, "problems": error.problems, "diagram": None})
    html = render_template(
        "approvals/admin_route_diagram.html", steps=route_editor.diagram_steps(template), current_step=None
    )
    return jsonify({"ok": True, "problems": [], "diagram": html})


def _version_arg() -> int | None:
    raw = request.args.get("version")
    if raw is None or raw == "":
        return None
    number = inputs.parse_int(raw, 1, inputs.ID_MAX)
    return -1 if number is None else number  # no version -1: 404


@bp.route("/<key>", methods=["GET", "POST"])
@page_role("admin")
def view(key: str) -> Any:
    """A route as the 起案 page draws it, its history, export, and the 試算 panel (POST: run it)."""
    number = _version_arg()
    row = route_editor.version(key, number)
    newest = route_store.latest(key)
    trial = trial_error = None
    values = {"drafter": "", "amount": ""}
    status = 200
    if request.method == "POST":
        values = {"drafter": request.form.get("drafter", ""), "amount": request.form.get("amount", "")}
        amount: Any = values["amount"].strip().replace(",", "")
        if amount:
            parsed = inputs.parse_int(amount, 0, inputs.ID_MAX)
            amount = "bad" if parsed is None else parsed
        try:
            result = route_editor.trial(key, values["drafter"], amount or None)
        except Invalid as error:
            trial_error, status = error, 422
        else:
            trial = {
                "drafter": result.drafter,
                "amount_words": f"{result.amount:,}円" if result.amount else "金額なし",
                "data": route_preview_json(result.row, result.steps, result.error),
            }
    return render_template(
        "approvals/admin_route.html",
        row=row,
        newest=newest,
        diagram=route_editor.diagram_steps(route_store.parsed(row)),
        history=route_editor.history(key),
        trial=trial,
        trial_error=trial_error,
        values=values,
        skip_words=SKIP_WORDS,
        current_step=None,
    ), status


@bp.get("/<key>/export")
@page_role("admin")
def export(key: str) -> Response:
    """Download a version (default: the newest) as the JSON of the import."""
    row = route_editor.version(key, _version_arg())
    return Response(
        route_editor.export_text(row),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="route-{row.key}-v{row.version}.json"'},
    )


# -- API --------------------------------------------------------------------------------------------------


def _person_json(user: Any) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "department": user.department.name if user.department else None,
        "title": user.title,
    }


@api_bp.post("/approval-routes/<key>/trial")
@api_role("admin")
def api_trial(key: str) -> Any:
    """Who would be asked: the newest version of a route resolved for a drafter and an amount.
    ---
    post:
      summary: 試算 — resolve a route for a chosen drafter and amount (role admin); nothing is saved
      tags: [approvals]
      parameters: [{name: key, in: path, required: true, schema: {type: string}}]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [drafter]
              properties:
                drafter: {type: string, description: the drafter's username}
                amount: {type: integer, minimum: 0, nullable: true, description: yen}
      responses:
        200:
          description: >
            {"route": {"key", "version", "name"}, "drafter": {"username", "display_name", "department",
            "title"}, "amount", "steps": [{"index", "kind", "mode"?, "label"?, "status", "skip_reason"?,
            "approvers": [{"username", "display_name", "department", "title", "status", "skip_reason"?}]}],
            "route_error"?: {"message", "step_index"}} (an approver that cannot be determined is reported,
            not raised)
        400: {description: not a JSON object}
        403: {description: not an administrator}
        404: {description: no such route}
        422: {description: 'unknown drafter or one without 課 (field drafter), bad amount (field amount)'}
    """
    data = json_body()
    result = route_editor.trial(key, data.get("drafter"), data.get("amount"))
    out = route_preview_json(result.row, result.steps, result.error)
    out["drafter"] = _person_json(result.drafter)
    out["amount"] = result.amount
    return jsonify(out)


@api_bp.get("/approval-routes/<key>/versions")
@api_role("admin")
def api_versions(key: str) -> Any:
    """Every version of a route, newest first, with who saved it and what changed.
    ---
    get:
      summary: Version history of a route template (role admin)
      tags: [approvals]
      parameters: [{name: key, in: path, required: true, schema: {type: string}}]
      responses:
        200:
          description: '{"versions": [{"version", "created_at", "created_by" (氏名), "changes": [str]}]}'
        403: {description: not an administrator}
        404: {description: no such route}
    """
    route_editor.version(key)
    versions = [
        {**v, "created_at": v["created_at"].isoformat() if v["created_at"] else None}
        for v in route_editor.history(key)
    ]
    return jsonify({"versions": versions})


@api_bp.post("/admin/approval-routes/check")
@api_role("admin")
def api_check() -> Any:
    """Validate a route definition with every rule of the editor (also 役職, 課 and 職員); nothing is saved.
    ---
    post:
      summary: Check a route template (JSON) without saving it (role admin)
      tags: [approvals]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [key, name, steps]
              properties:
                key: {type: string, pattern: '^[a-z0-9_-]{1,40}$'}
                name: {type: string, minLength: 1, pattern: '\\S'}
                steps: {type: array, minItems: 1, items: {type: object}}
      responses:
        200: {description: '{"ok": true, "steps": [str] (one line per step)}'}
        400: {description: not a JSON object}
        403: {description: not an administrator}
        422: {description: 'error.problems: [{"field", "message"}] (field names the editor field)'}
    """
    template = route_editor.check(json_body())
    return jsonify({"ok": True, "steps": [route_editor.step_words(s) for s in template.steps]})
