"""Core API: personal tokens, who I am, 今日の仕事, 通知. Errors follow {"error": {"code", "message"}}."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request
from flask_login import current_user

from workspace import auth, inputs, notifications, password_change, people, throttle
from workspace.models import User
from workspace.web import ApiError, api_blueprint, api_login_required, error_response, json_body

bp = api_blueprint("core_api", __name__)


def user_json(user: User) -> dict[str, Any]:
    """The public shape of a user, as /api/v1/me returns it."""
    dept = user.department
    section = user.section
    return {
        "username": user.username,
        "display_name": user.display_name,
        "display_name_kana": user.display_name_kana,
        "department": {"code": dept.code, "name": dept.name} if dept else None,
        "section": {"code": section.code, "name": section.name} if section else None,
        "title": user.title,
        "roles": sorted(user.roles),
    }


@bp.post("/auth/token")
@throttle.per_account
@throttle.per_address
def create_token() -> Any:
    """Exchange a username and password for a personal API token.
    ---
    post:
      summary: Sign in and receive a personal API token
      tags: [auth]
      security: []
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [username, password]
              properties:
                username: {type: string}
                password: {type: string}
                name: {type: string, description: a label shown in the settings page}
      responses:
        201: {description: 'the token (shown once) and the user'}
        400: {description: 'body is not a JSON object, is nested deeper than 64 (too_deep) or holds a lone
          surrogate (invalid_text)'}
        401: {description: bad credentials (same body whether the user exists or not)}
        422: {description: 'the token name is refused (over 100 characters, control or bidi characters)'}
        429: {description: too many failures for this account or address}
        503: {description: the directory is unreachable}
    """
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "JSONオブジェクトを送ってください。")
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        username, password = "", ""
    try:
        user = auth.check_credentials(username, password, address=request.remote_addr)
    except auth.SignInError as error:
        return error_response(error.status, error.message, error.code)
    name = data.get("name") if isinstance(data.get("name"), str) else "API"
    try:
        _token, secret = auth.create_token(user, name)
    except auth.TokenNameError as error:  # only this: a bare ValueError showed Python's own text
        raise ApiError(422, str(error)) from error
    return jsonify({"token": secret, "user": user_json(user)}), 201


@bp.delete("/auth/token")
@api_login_required
def revoke_token() -> Any:
    """Revoke the presented token.
    ---
    delete:
      summary: Revoke the bearer token of this request
      tags: [auth]
      responses:
        204: {description: revoked; the token answers 401 from now on}
        400: {description: the request was not made with a bearer token}
        401: {description: not signed in}
    """
    token = g.get("api_token")
    if token is None:
        raise ApiError(400, "Bearer トークンで呼び出してください。", "token_required")
    auth.revoke_token(current_user, token.id)
    return "", 204


@bp.get("/home")
@api_login_required
def home_today() -> Any:
    """今日の仕事: what the home page shows the signed-in person.
    ---
    get:
      summary: The signed-in person's work for today
      tags: [auth]
      responses:
        200: {description: 'approvals_pending [{id, title, kind, drafter, waiting_days}],
          approvals_pending_count, sent_back [{id, title, reason}], in_progress, post_review,
          mentions_unread, channels_unread [{id, name, unread}], expiring_documents,
          recent_documents, absent_today [{username, display_name}]'}
        401: {description: not signed in}
    """
    from workspace import home

    return jsonify(home.today_for(current_user))


@bp.get("/me")
@api_login_required
def me() -> Any:
    """Who is asking.
    ---
    get:
      summary: The signed-in user
      tags: [auth]
      responses:
        200:
          description: >-
            username, display_name, display_name_kana (読み, or null), department {code, name},
            section {code, name}, title, roles
        401: {description: not signed in}
    """
    return jsonify(user_json(current_user))


@bp.post("/me/password")
@password_change.per_account
@password_change.per_address
@api_login_required
def change_password() -> Any:
    """Change my own password (local accounts).
    ---
    post:
      summary: Change the signed-in person's own password
      description: >-
        The current password is required. The new one must pass the password rule (10 characters or
        more, not containing the user name, not one of the 10,000 most common passwords, not the
        current one). Changing it ends the person's other browser sessions (a call with the browser
        session keeps that one; a bearer-token call ends them all) and clears a forced change after an
        administrator's reset. API tokens stay valid. Wrong current passwords are throttled like
        sign-in (5 per person and 30 per address in 5 minutes by default).
      tags: [auth]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [current, new]
              properties:
                current: {type: string, minLength: 1, description: the password used now}
                new: {type: string, minLength: 1, description: the new password}
      responses:
        204: {description: changed}
        400: {description: 'the body is not a JSON object with current and new as strings'}
        401: {description: not signed in}
        403: {description: 'the current password is wrong (code wrong_password, field current)'}
        409: {description: 'a directory (LDAP) account: its password is changed in the directory
          (code directory_account)'}
        422: {description: 'the new password is refused (code weak_password, field new, the Japanese
          reason in message), or current or new is empty (code required)'}
        429: {description: too many wrong current passwords for this person or address}
    """
    data = json_body()
    current, new = data.get("current"), data.get("new")
    if not isinstance(current, str) or not isinstance(new, str):
        raise ApiError(400, "current と new に文字列を指定してください。")
    try:
        password_change.change_own(
            current_user,
            current,
            new,
            keep_session_key=None if g.get("api_token") else current_user.login_key,
        )
    except password_change.WrongPassword:
        password_change.audit_wrong_password(current_user)
        raise
    return "", 204


@bp.get("/me/preferences")
@api_login_required
def get_preferences() -> Any:
    """My 通知の設定.
    ---
    get:
      summary: The signed-in person's notification preferences
      tags: [notifications]
      responses:
        200: {description: '{"mentions": bool (メンション), "approvals": bool (決裁の到着: a 決裁 that
          reaches me to act on or read), "desktop": bool (デスクトップ通知 in the browser)}'}
        401: {description: not signed in}
    """
    return jsonify(notifications.preferences_of(current_user))


@bp.put("/me/preferences")
@api_login_required
def put_preferences() -> Any:
    """Set my 通知の設定.
    ---
    put:
      summary: Set some or all of the signed-in person's notification preferences
      description: >-
        Keys left out keep their value. With mentions or approvals false, no new 通知 of that kind is
        written for the person (replies, reactions and the results of their own 起案 always come).
      tags: [notifications]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              minProperties: 1
              additionalProperties: false
              properties:
                mentions: {type: boolean}
                approvals: {type: boolean}
                desktop: {type: boolean}
      responses:
        200: {description: 'all the preferences after the change, as GET returns them'}
        400: {description: the body is not a JSON object}
        401: {description: not signed in}
        422: {description: 'an unknown key or a value that is not true or false (field names the key);
          nothing changed'}
    """
    return jsonify(notifications.set_preferences(current_user, json_body()))


@bp.get("/users")
@api_login_required
def find_users() -> Any:
    """Find colleagues for a person picker or an @mention.
    ---
    get:
      summary: Active colleagues matching q (氏名, 読み, ユーザー名, 課)
      description: >-
        q matches the 氏名 with spaces ignored, the 読み with hiragana and katakana alike (かとう finds
        カトウ), the ユーザー名, and the name of the 課 or 係. People whose name, 読み or ユーザー名 starts
        with q come first. A blank q lists everyone by 読み. Disabled accounts are never listed.
      tags: [auth]
      parameters:
        - {name: q, in: query, required: false, schema: {type: string, maxLength: 100}}
        - name: limit
          in: query
          required: false
          schema: {type: integer, minimum: 1, maximum: 50, default: 20}
      responses:
        200:
          description: >-
            {"users": [{"username", "display_name", "display_name_kana", "department": {"code", "name"}
            or null, "title"}]}
        400: {description: 'limit is not an integer from 1 to 50, or q is longer than 100 characters'}
        401: {description: not signed in}
    """
    try:
        limit = people.parse_limit(request.args.get("limit"))
        query = people.parse_query(request.args.get("q"))
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    return jsonify({"users": [p.to_json() for p in people.search(query, limit)]})


_TRUE, _FALSE = ("1", "true"), ("", "0", "false")


@bp.get("/notifications")
@api_login_required
def list_notifications() -> Any:
    """My 通知, newest first.
    ---
    get:
      summary: The signed-in person's notifications (mentions, replies, reactions, 決裁), newest first
      tags: [notifications]
      parameters:
        - {name: unread, in: query, schema: {type: string, enum: ["1", "0"]}, description: '1 = unread only'}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 200, default: 50}}
      responses:
        200: {description: 'notifications [{id, kind (mention|reply|reaction|approval), created_at,
          read_at (null while unread), text, url}], unread: how many of mine are unread in all'}
        400: {description: unread or limit is not one of the accepted values}
        401: {description: not signed in}
    """
    unread = request.args.get("unread", "").lower()
    if unread not in _TRUE + _FALSE:
        raise ApiError(400, "unread は 1 か 0 で指定してください。")
    limit = inputs.parse_int(request.args.get("limit", notifications.LIST_DEFAULT), 1, notifications.LIST_MAX)
    if limit is None:
        raise ApiError(400, f"limit は1から{notifications.LIST_MAX}までの整数で指定してください。")
    rows = notifications.list_for(current_user, unread_only=unread in _TRUE, limit=limit)
    return jsonify(
        {
            "notifications": [notifications.notification_json(r) for r in rows],
            "unread": notifications.unread_count(current_user),
        }
    )


@bp.post("/notifications/read")
@api_login_required
def read_notifications() -> Any:
    """Mark some or all of my 通知 read.
    ---
    post:
      summary: Mark notifications read
      tags: [notifications]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              oneOf:
                - type: object
                  required: [ids]
                  not: {required: [all]}
                  properties: {ids: {type: array, maxItems: 500, items: {type: integer}}}
                - type: object
                  required: [all]
                  not: {required: [ids]}
                  properties: {all: {type: boolean, enum: [true]}}
      responses:
        204: {description: 'done; ids that are not mine (or do not exist) are ignored, so nobody learns
          that notices of others exist; already read ones stay as they were'}
        400: {description: 'neither a list of integer ids nor {"all": true}'}
        401: {description: not signed in}
    """
    data = json_body()
    if data.get("all") is True and "ids" not in data:
        notifications.mark_read(current_user)
        return "", 204
    ids = data.get("ids")
    if (
        "all" in data
        or not isinstance(ids, list)
        or len(ids) > notifications.MAX_IDS
        or not all(inputs.is_json_int(i) for i in ids)
    ):
        most = notifications.MAX_IDS
        raise ApiError(400, f"ids に通知の番号の一覧（{most}件まで）か、all に true を指定してください。")
    # Ids beyond any id are ignored like those of others' notices: they name nothing of mine.
    notifications.mark_read(current_user, [i for i in ids if inputs.json_id(i) is not None])
    return "", 204
