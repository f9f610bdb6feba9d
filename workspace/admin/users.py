"""職員 in 管理: the list of people, and on the local backend 追加, 編集, 無効にする / 有効にする and
パスワードの再設定; on the LDAP backend the same list read-only, the last sync and 「今すぐ同期」.

The rules are the directory's (``workspace.directory``: the same functions as ``workspace users …``);
this module parses, checks the role, calls them and renders.  A refused input comes back as a
``DirectoryInputError`` naming its field: the page shows the message next to that field (422), the
API answers it as JSON (422, or 409 for a duplicate ユーザー名 or a change the directory decides).
A one-time password is shown once, in the answer that made it, and stored only hashed.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from workspace import directory, inputs, people
from workspace.admin import api_bp, api_role, bp, jobs, page_role
from workspace.errors import ApiError, ServiceError
from workspace.models import User
from workspace.web import json_body

PER_PAGE = 50
API_PER_PAGE_MAX = 500
ACTIVE_CHOICES = {"true": True, "false": False, "all": None}
ACTIVE_LABELS = (("true", "有効"), ("false", "無効"), ("all", "すべて"))
SYNC_KIND = "directory.sync"
ID_MAX = 2**31 - 1  # the id column's range (SQL INTEGER): a larger number is nobody


# --- the sync job ------------------------------------------------------------------------------


def sync_directory(run: jobs.Run) -> dict[str, Any]:
    """The job 名簿の同期: ``directory.sync_from_ldap`` with its progress on the job's bar."""
    from workspace import ldap

    run.progress(0.0, "ディレクトリを読んでいます", force=True)

    def follow(entries: Any) -> Any:
        total = len(entries)
        for index, entry in enumerate(entries):
            run.progress(0.05 + 0.9 * index / total, f"{index:,} / {total:,} 人を取り込みました")
            yield entry
        run.progress(0.95, "ディレクトリにいない職員を確認しています", force=True)

    try:
        report = directory.sync_from_ldap(progress=follow)
    except (ldap.DirectoryError, ValueError) as error:
        current_app.logger.warning("directory sync failed: %s", error)
        raise ServiceError(
            "ディレクトリ（LDAP）に接続できませんでした。接続設定とサーバーの状態を確かめてください。",
            "unavailable",
            status=503,
        ) from None
    return {
        "created": report.created,
        "updated": report.updated,
        "deactivated": report.deactivated,
        "total": report.total,
    }


jobs.register(SYNC_KIND, "名簿の同期", "workspace.admin.users:sync_directory")


# --- shapes ------------------------------------------------------------------------------------


def _unit(unit: Any) -> dict[str, str] | None:
    return {"code": unit.code, "name": unit.name} if unit is not None else None


def user_json(user: User) -> dict[str, Any]:
    """A person as 管理's API gives them."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "display_name_kana": user.display_name_kana,
        "department": _unit(user.department),
        "section": _unit(user.section),
        "title": user.title,
        "roles": sorted(user.roles),
        "mail": user.mail,
        "active": bool(user.active),
        "source": user.source,
        "must_change_password": bool(user.must_change_password),
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
        "created_at": user.created_at.isoformat() if user.created_at else None,
    }


def sync_json(run: Any) -> dict[str, Any] | None:
    """The last sync as the list's answer gives it."""
    if run is None:
        return None
    return {
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "created": run.created,
        "updated": run.updated,
        "deactivated": run.deactivated,
        "error": run.error,
    }


def _active_param(value: Any, default: str) -> bool | None:
    key = value if value not in (None, "") else default
    if key not in ACTIVE_CHOICES:
        raise ApiError(400, "active は true・false・all のどれかで指定してください。", field="active")
    return ACTIVE_CHOICES[key]


def _query_param(value: Any) -> str:
    try:
        return people.parse_query(value)
    except ValueError as error:
        raise ApiError(400, str(error), field="q") from None


# --- pages -------------------------------------------------------------------------------------


@bp.get("/users")
@page_role("admin")
def users() -> Any:
    """職員: search by 氏名/読み/ユーザー名/課/役職, 有効/無効/すべて, 50 a page (氏名 first)."""
    q = request.args.get("q", "")
    active_key = request.args.get("active", "true")
    if active_key not in ACTIVE_CHOICES:
        active_key = "true"
    try:
        q = people.parse_query(q)
    except ValueError:
        q = q[: people.QUERY_MAX]
    page = inputs.parse_int(request.args.get("page", "1"), 1, 100_000) or 1
    found = directory.find_users(q, active=ACTIVE_CHOICES[active_key], page=page, per_page=PER_PAGE)
    managed = directory.managed_here()
    job = None
    if not managed:
        newest = jobs.latest(SYNC_KIND)
        job = jobs.job_json(newest) if newest is not None else None
    return render_template(
        "workspace/admin/users.html",
        found=found,
        q=q,
        active_key=active_key,
        active_labels=ACTIVE_LABELS,
        managed=managed,
        last_sync=None if managed else directory.last_sync(),
        job=job,
        role_labels=directory.ROLES,
    )


def _units() -> list[tuple[str, str]]:
    """The 所属 choices: each 課, then its 係 (value ``課コード/係コード``)."""
    departments = directory.list_departments(include_sections=True)
    by_parent: dict[int, list[Any]] = {}
    for unit in departments:
        if unit.parent_id is not None:
            by_parent.setdefault(unit.parent_id, []).append(unit)
    choices = []
    for unit in departments:
        if unit.parent_id is None:
            choices.append((unit.code, unit.name))
            for sec in by_parent.get(unit.id, []):
                choices.append((f"{unit.code}/{sec.code}", f"{unit.name}　{sec.name}"))
    return choices


def _split_unit(value: str) -> tuple[str, str | None]:
    department, _, section = (value or "").partition("/")
    return department, section or None


def _form_values() -> dict[str, Any]:
    form = request.form
    return {
        "username": form.get("username", "").strip(),
        "display_name": form.get("display_name", ""),
        "display_name_kana": form.get("display_name_kana", ""),
        "unit": form.get("unit", ""),
        "title": form.get("title", ""),
        "mail": form.get("mail", "").strip(),
        "roles": [r for r in form.getlist("roles") if isinstance(r, str)],
    }


def _values_of(user: User) -> dict[str, Any]:
    unit = user.department.code if user.department else ""
    if user.section is not None:
        unit += "/" + user.section.code
    return {
        "username": user.username,
        "display_name": user.display_name,
        "display_name_kana": user.display_name_kana or "",
        "unit": unit,
        "title": user.title or "",
        "mail": user.mail or "",
        "roles": sorted(user.roles),
    }


#: The page's field for each service field (課 and 係 are one 所属 control).
PAGE_FIELD = {"department_code": "unit", "section_code": "unit"}


def _form_page(
    values: dict[str, Any],
    *,
    person: User | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    secret: str | None = None,
    message: str | None = None,
) -> Any:
    return render_template(
        "workspace/admin/users_form.html",
        values=values,
        person=person,
        errors=errors or {},
        units=_units(),
        role_labels=directory.ROLES,
        form=FlaskForm(formdata=None),
        secret=secret,
        message=message,
        is_me=person is not None and person.id == current_user.id,
        managed_here=directory.managed_here(),
    ), status


def _refused(error: ServiceError) -> dict[str, str]:
    field = error.extra.get("field") or "form"
    return {PAGE_FIELD.get(field, field): error.message}


def _csrf_ok() -> bool:
    return FlaskForm().validate_on_submit()


EXPIRED = "画面の有効期限が切れました。もう一度お試しください。"


def _require_managed_page() -> None:
    directory.check_managed_here()  # the error page with 409 on the LDAP backend


@bp.route("/users/new", methods=["GET", "POST"])
@page_role("admin")
def user_new() -> Any:
    """職員の追加 (local backend): the form; on success the one-time password, once."""
    _require_managed_page()
    if request.method == "GET":
        return _form_page({"username": "", "display_name": "", "display_name_kana": "", "unit": "",
                           "title": "", "mail": "", "roles": []})
    values = _form_values()
    if not _csrf_ok():
        return _form_page(values, errors={"form": EXPIRED}, status=400)
    department, section = _split_unit(values["unit"])
    try:
        user, secret = directory.create_user(
            actor=current_user.username,
            username=values["username"],
            display_name=values["display_name"],
            display_name_kana=values["display_name_kana"],
            department_code=department,
            section_code=section,
            title=values["title"],
            roles=values["roles"],
            mail=values["mail"],
        )
    except directory.DirectoryInputError as error:
        return _form_page(values, errors=_refused(error), status=422)
    return render_template("workspace/admin/users_created.html", person=user, secret=secret)


def _person_or_404(user_id: int) -> User:
    user = directory.get_user_by_id(user_id) if user_id <= ID_MAX else None
    if user is None:
        from flask import abort

        abort(404)
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@page_role("admin")
def user_edit(user_id: int) -> Any:
    """A person's page: 編集 (local backend), 無効にする / 有効にする, パスワードの再設定."""
    user = _person_or_404(user_id)
    if request.method == "GET":
        return _form_page(_values_of(user), person=user)
    _require_managed_page()
    values = _form_values()
    values["username"] = user.username
    if not _csrf_ok():
        return _form_page(values, person=user, errors={"form": EXPIRED}, status=400)
    department, section = _split_unit(values["unit"])
    try:
        directory.edit_user(
            user.username,
            actor=current_user.username,
            display_name=values["display_name"],
            display_name_kana=values["display_name_kana"],
            department_code=department,
            section_code=section or "",
            title=values["title"],
            roles=values["roles"],
            mail=values["mail"],
        )
    except directory.DirectoryInputError as error:
        return _form_page(values, person=user, errors=_refused(error), status=422)
    flash(f"{user.display_name}さんの登録内容を保存しました。", "info")
    return redirect(url_for("admin.user_edit", user_id=user.id))


def _action(user_id: int, act: Any, done: str) -> Any:
    user = _person_or_404(user_id)
    _require_managed_page()
    if not _csrf_ok():
        return _form_page(_values_of(user), person=user, errors={"form": EXPIRED}, status=400)
    try:
        act(user)
    except directory.DirectoryInputError as error:
        refused = {"actions": error.message}
        return _form_page(_values_of(user), person=user, errors=refused, status=error.status)
    flash(done.format(name=user.display_name), "info")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/disable")
@page_role("admin")
def user_disable(user_id: int) -> Any:
    """無効にする: sessions, tokens and sockets end at once."""
    return _action(
        user_id,
        lambda u: directory.set_user_active(u.username, False, actor=current_user.username),
        "{name}さんを無効にしました。サインイン中の画面とAPIキーはすでに使えません。",
    )


@bp.post("/users/<int:user_id>/enable")
@page_role("admin")
def user_enable(user_id: int) -> Any:
    """有効にする."""
    return _action(
        user_id,
        lambda u: directory.set_user_active(u.username, True, actor=current_user.username),
        "{name}さんを有効にしました。",
    )


@bp.post("/users/<int:user_id>/reset-password")
@page_role("admin")
def user_reset_password(user_id: int) -> Any:
    """パスワードの再設定: the one-time password is shown on this answer only."""
    user = _person_or_404(user_id)
    _require_managed_page()
    if not _csrf_ok():
        return _form_page(_values_of(user), person=user, errors={"form": EXPIRED}, status=400)
    try:
        user, secret = directory.reset_password(user.username, actor=current_user.username)
    except directory.DirectoryInputError as error:
        refused = {"actions": error.message}
        return _form_page(_values_of(user), person=user, errors=refused, status=error.status)
    return _form_page(_values_of(user), person=user, secret=secret)


# --- API -----------------------------------------------------------------------------------------

def _strings(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    found = {}
    for name in names:
        if name not in data or data[name] is None:
            continue
        if not isinstance(data[name], str):
            raise ApiError(400, f"{name} は文字列で指定してください。", field=name)
        found[name] = data[name]
    return found


def _roles(data: dict[str, Any]) -> list[str] | None:
    if "roles" not in data or data["roles"] is None:
        return None
    roles = data["roles"]
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ApiError(400, "roles は文字列の配列で指定してください。", field="roles")
    return roles


@api_bp.get("/admin/users")
@api_role("admin")
def api_users() -> Any:
    """管理's list of people.
    ---
    get:
      summary: People of the directory, searched and filtered (role admin)
      description: >
        q matches 氏名, 読み (hiragana or katakana), ユーザー名, 課, 係 and 役職 (contains; full-width
        letters and spaces ignored). active: true (有効), false (無効) or all (the default). Ordered by
        読み; `page` and `per_page` (default 50, at most 500) page through them.
      tags: [admin]
      parameters:
        - {name: q, in: query, schema: {type: string, maxLength: 100}}
        - {name: active, in: query, schema: {type: string, enum: ['true', 'false', all]}}
        - {name: page, in: query, schema: {type: integer, minimum: 1, maximum: 100000}}
        - {name: per_page, in: query, schema: {type: integer, minimum: 1, maximum: 500}}
      responses:
        200:
          description: >
            {"users": [{"username", "display_name", "display_name_kana", "department": {"code", "name"},
            "section", "title", "roles", "mail", "active", "source", "must_change_password",
            "last_login_at", "created_at"}], "total", "page", "per_page", "managed_here" (false with LDAP),
            "last_sync": {"started_at", "finished_at", "created", "updated", "deactivated", "error"} (LDAP)}
        400: {description: 'q too long; active not true, false or all; page or per_page out of range'}
        403: {description: not an administrator}
    """
    q = _query_param(request.args.get("q"))
    active = _active_param(request.args.get("active"), "all")
    page = inputs.parse_int(request.args.get("page", "1"), 1, 100_000)
    per_page = inputs.parse_int(request.args.get("per_page", str(PER_PAGE)), 1, API_PER_PAGE_MAX)
    if page is None or per_page is None:
        raise ApiError(400, f"page は1以上、per_page は1〜{API_PER_PAGE_MAX}の整数で指定してください。")
    found = directory.find_users(q, active=active, page=page, per_page=per_page)
    managed = directory.managed_here()
    return jsonify(
        {
            "users": [user_json(u) for u in found.users],
            "total": found.total,
            "page": found.page,
            "per_page": found.per_page,
            "managed_here": managed,
            "last_sync": None if managed else sync_json(directory.last_sync()),
        }
    )


@api_bp.post("/admin/users")
@api_role("admin")
def api_add_user() -> Any:
    """Add a person (local backend).
    ---
    post:
      summary: Add a local account with a one-time password (role admin)
      description: >
        The answer carries the one-time password once (it is stored only hashed); the person must
        choose their own at the first sign-in. Refused on the LDAP backend (409: the directory decides).
      tags: [admin]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [username, display_name, display_name_kana, department_code, title, roles]
              properties:
                username: {type: string, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'}
                display_name: {type: string, minLength: 1, maxLength: 100}
                display_name_kana: {type: string, minLength: 1, maxLength: 100, description: 読み (kana)}
                department_code: {type: string, minLength: 1, maxLength: 32}
                section_code: {type: string, maxLength: 32}
                title: {type: string, minLength: 1, maxLength: 50}
                roles: {type: array, items: {type: string, enum: [admin, records]}}
                mail: {type: string, maxLength: 254}
      responses:
        201: {description: '{"user": {…as in the list}, "temporary_password"}'}
        400: {description: not a JSON object; a field of the wrong type}
        403: {description: not an administrator}
        409:
          description: >-
            the ユーザー名 is taken (code duplicate_username, field username); the LDAP backend
            (code directory_managed)
        422:
          description: >-
            bad or missing input, unknown 課 or 係, bad 読み or mail (code invalid; field names the input)
    """
    data = json_body()
    fields = _strings(
        data,
        ("username", "display_name", "display_name_kana", "department_code", "section_code", "title", "mail"),
    )
    user, secret = directory.create_user(
        actor=current_user.username,
        username=fields.get("username", ""),
        display_name=fields.get("display_name", ""),
        display_name_kana=fields.get("display_name_kana"),
        department_code=fields.get("department_code"),
        section_code=fields.get("section_code"),
        title=fields.get("title"),
        roles=_roles(data) or [],
        mail=fields.get("mail"),
    )
    return jsonify({"user": user_json(user), "temporary_password": secret}), 201


@api_bp.patch("/admin/users/<username>")
@api_role("admin")
def api_edit_user(username: str) -> Any:
    """Change a person (local backend).
    ---
    patch:
      summary: Change a local account's 氏名, 読み, 課/係, 役職, roles or mail (role admin)
      description: >
        Only the fields sent change. department_code moves the person to that 課 (with section_code,
        to its 係; without, to no 係); section_code alone chooses a 係 of the current 課 ("" for none);
        mail "" clears it. Every change is audited with before and after.
      tags: [admin]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                display_name: {type: string, minLength: 1, maxLength: 100}
                display_name_kana: {type: string, minLength: 1, maxLength: 100, description: 読み (kana)}
                department_code: {type: string, minLength: 1, maxLength: 32}
                section_code: {type: string, maxLength: 32}
                title: {type: string, minLength: 1, maxLength: 50}
                roles: {type: array, items: {type: string, enum: [admin, records]}}
                mail: {type: string, maxLength: 254}
      responses:
        200: {description: '{"user": {…}}'}
        400: {description: not a JSON object; a field of the wrong type}
        403: {description: not an administrator}
        404: {description: no such person}
        409: {description: 'the LDAP backend, or a directory person (code directory_managed)'}
        422: {description: 'bad input, unknown 課 or 係; removing one''s own admin role (code self)'}
    """
    data = json_body()
    fields = _strings(
        data, ("display_name", "display_name_kana", "department_code", "section_code", "title", "mail")
    )
    user = directory.edit_user(username, actor=current_user.username, roles=_roles(data), **fields)
    return jsonify({"user": user_json(user)})


@api_bp.post("/admin/users/<username>/disable")
@api_role("admin")
def api_disable_user(username: str) -> Any:
    """Disable a person: their sessions, API tokens and sockets stop at once.
    ---
    post:
      summary: Disable a person, ending their sessions, API tokens and sockets at once (role admin)
      tags: [admin]
      responses:
        200: {description: '{"user": {…}}'}
        403: {description: not an administrator}
        404: {description: no such person}
        409:
          description: >-
            the LDAP backend or a directory person (code directory_managed); disabling oneself (code self)
    """
    user = directory.set_user_active(username, False, actor=current_user.username)
    return jsonify({"user": user_json(user)})


@api_bp.post("/admin/users/<username>/enable")
@api_role("admin")
def api_enable_user(username: str) -> Any:
    """Enable a person again.
    ---
    post:
      summary: Enable a person again (role admin)
      tags: [admin]
      responses:
        200: {description: '{"user": {…}}'}
        403: {description: not an administrator}
        404: {description: no such person}
        409:
          description: >-
            the LDAP backend or a directory person (code directory_managed)
    """
    user = directory.set_user_active(username, True, actor=current_user.username)
    return jsonify({"user": user_json(user)})


@api_bp.post("/admin/users/<username>/reset-password")
@api_role("admin")
def api_reset_password(username: str) -> Any:
    """Give a person a one-time password.
    ---
    post:
      summary: Give a person a one-time password, shown once (role admin)
      description: >
        The answer carries the password once (it is stored only hashed); the person must change it
        at the next sign-in, and their open browser sessions end. API tokens stay valid.
      tags: [admin]
      responses:
        200: {description: '{"user": {…}, "temporary_password"}'}
        403: {description: not an administrator}
        404: {description: no such person}
        409: {description: 'the LDAP backend or a directory person (code directory_managed)'}
    """
    user, secret = directory.reset_password(username, actor=current_user.username)
    return jsonify({"user": user_json(user), "temporary_password": secret})


@api_bp.post("/admin/directory/sync")
@api_role("admin")
def api_directory_sync() -> Any:
    """Start 名簿の同期.
    ---
    post:
      summary: Sync the directory from LDAP / Active Directory in the background (role admin)
      description: >
        Answers 202 with the job at once; the same job if a sync is already running. Follow it with
        GET /api/v1/admin/jobs/{id} or Socket.IO `job:progress`. Its result: {"created", "updated",
        "deactivated", "total"}. On the local backend there is nothing to sync (409).
      tags: [admin]
      responses:
        202: {description: '{"job": {"id", "kind", "state", "progress", …}, "started": bool}'}
        403: {description: not an administrator}
        409: {description: 'the local backend: no directory to sync (code not_ldap)'}
    """
    if directory.managed_here():
        raise ServiceError(
            "ディレクトリ（LDAP）と連携していないため、同期するものはありません。", "not_ldap", status=409
        )
    return jobs.start_for_me(SYNC_KIND)


def init_app(app: Any) -> None:
    """Put 職員 on the 管理 landing page."""
    from workspace.admin import section

    section(
        app,
        "職員",
        "admin.users",
        description="職員の検索と一覧。追加・編集・無効化・パスワードの再設定、ディレクトリとの同期。",
    )
