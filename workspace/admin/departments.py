"""課・係 in 管理: the tree with each 文書番号 prefix, add, rename, prefix, move a 係, 廃止/再開, and the
人事異動 preview and its 適用. The page and the API call the rules of ``workspace.departments``.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from workspace import departments
from workspace.admin import api_bp, api_role, bp, page_role
from workspace.departments import DepartmentError
from workspace.errors import ServiceError
from workspace.web import json_body

EXPIRED = "画面の有効期限が切れました。もう一度お試しください。"


def _department_options() -> list[tuple[str, str]]:
    return [(e["department"].code, e["department"].name) for e in departments.tree(include_inactive=False)]


def _index(
    *, add_error: DepartmentError | None = None, add_form: dict[str, str] | None = None, status: int = 200
) -> Any:
    return render_template(
        "workspace/admin/departments.html",
        tree=departments.tree(),
        parents=_department_options(),
        units=departments.units(),
        form=FlaskForm(),
        add_form=add_form or {},
        add_error=add_error,
        managed=departments.directory_managed(),
    ), status


@bp.get("/departments", endpoint="departments")
@page_role("admin")
def departments_page() -> Any:
    """The tree of 課 and 係, the 追加 form and the 人事異動 form."""
    return _index()


@bp.post("/departments")
@page_role("admin")
def departments_add() -> Any:
    """Add a 課 or a 係; a refused one is shown again with the reason next to its field (422)."""
    form = FlaskForm()
    values = {k: request.form.get(k, "").strip() for k in ("code", "name", "parent_code", "prefix")}
    if not form.validate_on_submit():
        return _index(add_error=DepartmentError(EXPIRED, field="code"), add_form=values, status=422)
    try:
        dept = departments.add(
            values["code"],
            values["name"],
            actor=current_user.username,
            parent_code=values["parent_code"] or None,
            prefix=values["prefix"] or None,
        )
    except DepartmentError as error:
        return _index(add_error=error, add_form=values, status=error.status)
    flash(f"{dept.name}を追加しました。", "info")
    return redirect(url_for("admin.departments"))


def _edit(
    dept: Any, *, error: ServiceError | None = None, values: dict[str, str] | None = None, status: int = 200
) -> Any:
    parents = [(code, name) for code, name in _department_options() if code != dept.code]
    return render_template(
        "workspace/admin/departments_edit.html",
        dept=dept,
        parents=parents,
        values=values
        or {"name": dept.name, "prefix": dept.prefix, "parent_code": dept.parent.code if dept.parent else ""},
        error=error,
        form=FlaskForm(),
        reasons=departments.reasons_in_use(dept) if dept.active else [],
        managed=departments.directory_managed(),
    ), status


@bp.get("/departments/<code>")
@page_role("admin")
def department_page(code: str) -> Any:
    """One 課 or 係: 名称, 文書番号の略称, its 課 (a 係), 廃止 or 再開."""
    dept = departments.get(code)
    if dept is None:
        abort(404)
    return _edit(dept)


@bp.post("/departments/<code>")
@page_role("admin")
def department_save(code: str) -> Any:
    """Save the 変更 form, or 廃止 / 再開 (button ``active``); refusals are shown on the page."""
    dept = departments.get(code)
    if dept is None:
        abort(404)
    form = FlaskForm()
    if "active" in request.form:
        changes: dict[str, Any] = {"active": request.form["active"] == "1"}
        values = None
    else:
        values = {k: request.form.get(k, "").strip() for k in ("name", "prefix", "parent_code")}
        changes = {"name": values["name"], "prefix": values["prefix"]}
        if dept.is_section:
            changes["parent_code"] = values["parent_code"]
        if departments.directory_managed():
            changes = {"prefix": values["prefix"]}
    if not form.validate_on_submit():
        return _edit(dept, error=DepartmentError(EXPIRED, field="name"), values=values, status=422)
    try:
        departments.update(code, changes, actor=current_user.username)
    except DepartmentError as error:
        dept = departments.get(code)  # as stored: the refused change was rolled back
        return _edit(dept, error=error, values=values, status=error.status)
    if "active" in changes:
        flash(f"{dept.name}を{'再開' if changes['active'] else '廃止'}しました。", "info")
    else:
        flash(f"{dept.name}を保存しました。", "info")
    return redirect(url_for("admin.departments"))


@bp.get("/departments/transfer")
@page_role("admin")
def transfer_page() -> Any:
    """人事異動: what moving a person to a 課・係 brings about, before 適用 (the GET changes nothing)."""
    person, unit = request.args.get("person", ""), request.args.get("unit", "")
    try:
        preview = departments.transfer_preview(person, unit)
    except DepartmentError as error:
        return _transfer_refused(error, unit)
    return render_template("workspace/admin/departments_transfer.html", preview=preview, form=FlaskForm())


def _transfer_refused(error: ServiceError, unit: str) -> Any:
    return render_template(
        "workspace/admin/departments.html",
        tree=departments.tree(),
        parents=_department_options(),
        units=departments.units(),
        form=FlaskForm(),
        add_form={},
        add_error=None,
        transfer_error=error,
        transfer_unit=unit,
        managed=departments.directory_managed(),
    ), error.status


@bp.post("/departments/transfer")
@page_role("admin")
def transfer_apply() -> Any:
    """適用: move the person (local accounts); chat and 決裁 follow."""
    form = FlaskForm()
    person, unit = request.form.get("person", ""), request.form.get("unit", "")
    if not form.validate_on_submit():
        return _transfer_refused(DepartmentError(EXPIRED, field="person"), unit)
    try:
        user = departments.transfer(person, unit, actor=current_user.username)
    except DepartmentError as error:
        return _transfer_refused(error, unit)
    where = user.section.name if user.section else user.department.name
    flash(f"{user.display_name}さんを{where}へ異動しました。", "info")
    return redirect(url_for("admin.departments"))


# --- API -----------------------------------------------------------------------------------------


@api_bp.get("/admin/departments")
@api_role("admin")
def api_list() -> Any:
    """Every 課 and 係.
    ---
    get:
      summary: The 課 and 係 with their 文書番号 prefix (role admin)
      description: >
        Each 課 is followed by its 係. Inactive (廃止) ones are included with active false.
        Each entry: {"code", "name", "prefix", "parent_code", "active", "kind": "department"|"section"}.
      tags: [admin]
      responses:
        200: {description: '{"departments": [{"code", "name", "prefix", "parent_code", "active", "kind"}]}'}
        401: {description: not signed in}
        403: {description: not an administrator}
    """
    return jsonify({"departments": departments.list_json()})


@api_bp.post("/admin/departments")
@api_role("admin")
def api_add() -> Any:
    """Add a 課 or a 係.
    ---
    post:
      summary: Add a 課, or a 係 under parent_code (role admin)
      description: >
        prefix (the mark in 文書番号) defaults to the name's first character; two active 課 may not
        share one. On the LDAP backend the directory decides the tree: 409 directory_managed.
      tags: [admin]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [code, name]
              properties:
                code: {type: string, maxLength: 32}
                name: {type: string, maxLength: 100}
                parent_code: {type: string, nullable: true}
                prefix: {type: string, maxLength: 8, nullable: true}
      responses:
        201: {description: '{"department": {"code", "name", "prefix", "parent_code", "active", "kind"}}'}
        400: {description: the body is not a JSON object}
        401: {description: not signed in}
        403: {description: not an administrator}
        409: {description: 'directory_managed (LDAP backend)'}
        422: {description: 'bad input: {"error": {"code", "message", "field"}} (code_taken, prefix_taken …)'}
    """
    data = json_body()
    dept = departments.add(
        data.get("code"),
        data.get("name"),
        actor=current_user.username,
        parent_code=data.get("parent_code"),
        prefix=data.get("prefix"),
    )
    return jsonify({"department": departments.department_json(dept)}), 201


@api_bp.patch("/admin/departments/<code>")
@api_role("admin")
def api_update(code: str) -> Any:
    """Change a 課 or 係.
    ---
    patch:
      summary: Rename, change the prefix, move a 係 to another 課, 廃止 or 再開 (role admin)
      description: >
        Any of name, prefix, parent_code (a 係 only: the 課 it moves to; its people move with it),
        active (false = 廃止, refused with 409 in_use and "reasons" while active people, active 係 or
        open 決裁 belong to it). Nothing changes when any part is refused. On the LDAP backend only
        the prefix can change (409 directory_managed for the rest).
      tags: [admin]
      parameters:
        - {name: code, in: path, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                name: {type: string, maxLength: 100}
                prefix: {type: string, maxLength: 8}
                parent_code: {type: string, nullable: true}
                active: {type: boolean}
      responses:
        200: {description: '{"department": {"code", "name", "prefix", "parent_code", "active", "kind"}}'}
        400: {description: the body is not a JSON object}
        401: {description: not signed in}
        403: {description: not an administrator}
        404: {description: no such 課・係}
        409: {description: '{"error": {"code": "in_use", "message", "reasons": [...]}}; directory_managed'}
        422: {description: 'bad input: {"error": {"code", "message", "field"}} (cycle …)'}
    """
    data = json_body()
    dept = departments.update(code, data, actor=current_user.username)
    return jsonify({"department": departments.department_json(dept)})


@api_bp.post("/admin/transfers")
@api_role("admin")
def api_transfer() -> Any:
    """人事異動: preview, or apply, moving a person to a 課 or 係.
    ---
    post:
      summary: What moving a person to a 課・係 brings about; with apply, move them (role admin)
      description: >
        Without apply (or apply false) nothing is written: the answer says what would follow —
        {"preview": {"person", "from", "to", "unit", "unchanged", "applicable", "directory_managed",
        "consequences": [{"heading", "items", "note"}]}} (chat channels joined and left, drafts whose
        route is resolved anew and their new route, 決裁 already submitted). With apply true a local
        account is moved (audited as department.transfer) and "applied" is true; on the LDAP backend
        the directory decides (409 directory_managed).
      tags: [admin]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [username, unit]
              properties:
                username: {type: string}
                unit: {type: string, description: the code of the 課 or 係 to move to}
                apply: {type: boolean}
      responses:
        200: {description: '{"preview": {…}, "applied": bool}'}
        400: {description: the body is not a JSON object}
        401: {description: not signed in}
        403: {description: not an administrator}
        409: {description: 'directory_managed: the directory decides this person''s 所属'}
        422: {description: 'unknown person (field person), unknown or 廃止 unit (field unit), already there'}
    """
    data = json_body()
    apply = data.get("apply", False)
    if not isinstance(apply, bool):
        raise DepartmentError("apply は true か false です。", field="apply")
    preview = departments.transfer_preview(data.get("username"), data.get("unit"))
    if apply:
        departments.transfer(data.get("username"), data.get("unit"), actor=current_user.username)
    return jsonify({"preview": preview, "applied": bool(apply)})
