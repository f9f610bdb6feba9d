"""``/api/v1`` for 電子決裁: route templates, requests, actions, the inbox, absences, the PDF record.

Thin: parse, ask the service, render. Service errors carry their HTTP status (approvals.errors) and are
answered by workspace.web; a 409 also returns the request's current state so the client can redraw
without another call.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, render_template, request
from flask_login import current_user

from approvals import absence, access, editing, inbox, record, route_store, service
from approvals.errors import Conflict, Forbidden
from approvals.models import ApprovalRequest
from approvals.serialize import request_json, route_preview_json
from workspace import db, inputs
from workspace.web import ApiError, api_blueprint, api_login_required, json_body, service_error_response

bp = api_blueprint("approvals_api", __name__)


@bp.errorhandler(Conflict)
def _conflict_with_state(error: Conflict) -> Any:
    """Add the request's current state (for someone who may see it) to the usual error answer."""
    if error.request_id is not None:
        row = db.session().get(ApprovalRequest, error.request_id)
        if row is not None and access.can_view(current_user, row):
            db.session().refresh(row)
            error.extra["request"] = request_json(row, current_user)
    return service_error_response(error)


def _int_arg(name: str, default: int) -> int:
    value = request.args.get(name)
    number = default if value is None else inputs.parse_int(value, 0, inputs.ID_MAX)
    if number is None:
        raise ApiError(400, f"{name} は0以上の整数（半角数字）で指定してください。")
    return number


# -- route templates ------------------------------------------------------------------------------


@bp.get("/approval-routes")
@api_login_required
def list_routes() -> Any:
    """List route templates (newest version of each).
    ---
    get:
      summary: Route templates (決裁ルート), newest version of each key
      tags: [approvals]
      responses:
        200: {description: '{"routes": [{"id", "key", "version", "name", "definition"}]}'}
        401: {description: not signed in}
    """
    return jsonify({"routes": [route_store.route_json(r) for r in route_store.list_latest()]})


@bp.post("/approval-routes")
@api_login_required
def create_route() -> Any:
    """Store a route template as its next version (admin).
    ---
    post:
      summary: Import a route template (JSON); the same key again creates version n+1
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
        201: {description: '{"id", "key", "version"}'}
        400: {description: not a JSON object}
        403: {description: not an admin}
        409: {description: another save of the same key won the race}
        422: {description: 'invalid template; error.path points at the offending value'}
    """
    if not current_user.has_role("admin"):
        raise Forbidden("決裁ルートの登録は管理者だけができます。")
    row = route_store.save(json_body(), current_user)
    return jsonify({"id": row.id, "key": row.key, "version": row.version}), 201


@bp.get("/approval-routes/<key>")
@api_login_required
def export_route(key: str) -> Any:
    """Export the newest version of one route template.
    ---
    get:
      summary: Export a route template (newest version)
      tags: [approvals]
      parameters: [{name: key, in: path, required: true, schema: {type: string}}]
      responses:
        200: {description: '{"id", "key", "version", "name", "definition"}'}
        404: {description: no such key}
    """
    row = route_store.latest(key)
    if row is None:
        raise ApiError(404, "決裁ルートが見つかりません。")
    return jsonify(route_store.route_json(row))


@bp.post("/approval-routes/<key>/preview")
@api_login_required
def preview_route(key: str) -> Any:
    """The route the caller would get with this template and amount, resolved now; nothing is saved.
    ---
    post:
      summary: Preview a route for the caller (専決 by amount, skipped steps marked)
      tags: [approvals]
      parameters: [{name: key, in: path, required: true, schema: {type: string}}]
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {amount: {type: integer, minimum: 0, nullable: true}}}
      responses:
        200:
          description: '{"route": {"key", "version", "name"}, "steps": [...],
            "route_error"?: {"message", "step_index"}} (an unresolvable approver is reported, not raised)'

        404: {description: no such route}
        422: {description: bad amount}
    """
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    template_row, steps, error = service.preview_for(current_user, key, data.get("amount"))
    return jsonify(route_preview_json(template_row, steps, error))


# -- requests ---------------------------------------------------------------------------------------


@bp.post("/approvals")
@api_login_required
def create_request() -> Any:
    """Create a draft (起案書), optionally submitting it at once.
    ---
    post:
      summary: Create a request; with submit=true the route is resolved, frozen and started
      tags: [approvals]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [route, title]
              additionalProperties: false
              properties:
                route: {type: string, description: route template key}
                title: {type: string, minLength: 1, maxLength: 200, pattern: '\\S'}
                body: {type: string, maxLength: 20000}
                amount: {type: integer, minimum: 0, maximum: 9223372036854775807}
                classification: {type: string}
                retention_years: {type: integer, enum: [1, 3, 5, 10, 30], nullable: true}
                consult_departments: {type: array, items: {type: string}, description: 合議 課 codes}
                submit: {type: boolean}
      responses:
        201: {description: 'the request: {"id", "status", "document_number", "steps": [...]}'}
        400: {description: not a JSON object}
        422: {description: 'bad field, unknown route, or an approver that cannot be resolved'}
    """
    row = service.create(current_user, json_body())
    return jsonify(request_json(row, current_user)), 201


@bp.get("/approvals/<int:request_id>")
@api_login_required
def get_request(request_id: int) -> Any:
    """One request with its route, history and the caller's allowed actions.
    ---
    get:
      summary: A request (drafter, route members, their deputies and admins only)
      tags: [approvals]
      parameters: [{name: request_id, in: path, required: true, schema: {type: integer}}]
      responses:
        200:
          description: 'the request, with "versions": [{"n", "submitted_at", "title", "body", "amount",
            "attachments"}] (one per submission) and "send_back_reason" (while sent_back, else null)'
        404: {description: 'no such request, or the caller may not see it'}
    """
    return jsonify(request_json(access.get_visible(current_user, request_id), current_user))


@bp.patch("/approvals/<int:request_id>")
@api_login_required
def update_request(request_id: int) -> Any:
    """Edit a draft, or a request sent back to its drafter (差戻し), before it is (re)submitted.
    ---
    patch:
      summary: 'Change title, body, amount, classification, retention_years (drafter; draft or sent_back)'
      description: 'A draft may also change route and consult_departments. After a 差戻し the route is
        frozen: an amount that would change the 決裁区分 is refused (422; withdraw and 引用起案).'
      tags: [approvals]
      parameters: [{name: request_id, in: path, required: true, schema: {type: integer}}]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              properties:
                route: {type: string, description: 'draft only: another route template key'}
                consult_departments: {type: array, items: {type: string}, description: draft only}
                title: {type: string, minLength: 1, maxLength: 200, pattern: '\\S'}
                body: {type: string, maxLength: 20000}
                amount: {type: integer, minimum: 0, nullable: true}
                classification: {type: string, nullable: true}
                retention_years: {type: integer, enum: [1, 3, 5, 10, 30], nullable: true}
      responses:
        200: {description: the request}
        400: {description: not a JSON object}
        403: {description: not the drafter}
        404: {description: not found}
        409: {description: 'not draft or sent_back; error.request holds the current state'}
        422: {description: bad field}
    """
    row = editing.update(current_user, request_id, json_body())
    return jsonify(request_json(row, current_user))


@bp.delete("/approvals/<int:request_id>")
@api_login_required
def delete_request(request_id: int) -> Any:
    """Delete a draft.
    ---
    delete:
      summary: Delete a draft and its attachments (drafter); a submitted request is withdrawn instead
      tags: [approvals]
      parameters: [{name: request_id, in: path, required: true, schema: {type: integer}}]
      responses:
        204: {description: deleted}
        403: {description: not the drafter}
        404: {description: not found}
        409: {description: 'not a draft; error.request holds the current state'}
    """
    editing.delete_draft(current_user, request_id)
    return "", 204


@bp.post("/approvals/<int:request_id>/copy")
@api_login_required
def copy_request(request_id: int) -> Any:
    """引用起案: a new draft from an earlier request.
    ---
    post:
      summary: 'New draft of the caller with the title, body, route and amount of a request the caller
        may see; attachments too with {"attachments": true}'
      tags: [approvals]
      parameters: [{name: request_id, in: path, required: true, schema: {type: integer}}]
      requestBody:
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              properties: {attachments: {type: boolean, default: false}}
      responses:
        201: {description: the new draft}
        404: {description: 'not found, or the caller may not see it'}
        422: {description: 'bad flag, the route no longer exists, or the caller has no 課'}
    """
    data = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(data, dict):
        raise ApiError(400, "JSONオブジェクトで指定してください。")
    row = editing.copy(current_user, request_id, data)
    return jsonify(request_json(row, current_user)), 201


@bp.post("/approvals/<int:request_id>/submit")
@api_login_required
def submit_request(request_id: int) -> Any:
    """Submit a draft (起案).
    ---
    post:
      summary: Submit a draft; the route is resolved from the directory and frozen
      tags: [approvals]
      parameters: [{name: request_id, in: path, required: true, schema: {type: integer}}]
      responses:
        200: {description: 'the request, in_progress'}
        403: {description: not the drafter}
        404: {description: not found}
        409: {description: 'already submitted; error.request holds the current state'}
        422: {description: an approver cannot be resolved (error.step_index)}
    """
    return jsonify(request_json(service.submit(current_user, request_id), current_user))


@bp.post("/approvals/<int:request_id>/actions")
@api_login_required
def act(request_id: int) -> Any:
    """Act on a request.
    ---
    post:
      summary: 'approve, send_back, reject, pull_back, withdraw, resubmit, deputy_approve, acknowledge,
        pull_up, read'
      tags: [approvals]
      parameters: [{name: request_id, in: path, required: true, schema: {type: integer}}]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [action]
              properties:
                action:
                  type: string
                  enum: [submit, approve, send_back, reject, pull_back, withdraw, resubmit, deputy_approve,
                    acknowledge, pull_up, read]
                comment: {type: string, maxLength: 2000}
                to_step: {type: integer, description: 'send_back only: an earlier step (omitted: drafter)'}
      responses:
        200: {description: the request after the action}
        403: {description: 'the caller may see the request (e.g. an admin) but has no part in this action'}
        404: {description: 'not found, or not visible to the caller (the same answer)'}
        409: {description: 'already acted, not yet due, or finished; error.request holds the current state'}
        422: {description: unknown action or bad to_step / comment}
    """
    data = json_body()
    row = service.act(
        current_user, request_id, data.get("action"), comment=data.get("comment"), to_step=data.get("to_step")
    )
    return jsonify(request_json(row, current_user))


@bp.post("/approvals/bulk")
@api_login_required
def bulk() -> Any:
    """Apply one action to several requests.
    ---
    post:
      summary: Bulk approve (or deputy_approve, acknowledge, read) with a result per item
      tags: [approvals]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [ids]
              properties:
                ids:
                  type: array
                  minItems: 1
                  maxItems: 100
                  items: {type: integer, description: 'an id that names nothing gets ok: false'}
                action: {type: string, enum: [approve, deputy_approve, acknowledge, read], default: approve}
                comment: {type: string, maxLength: 2000}
      responses:
        200: {description: '{"results": [{"id", "ok", "status"} | {"id", "ok": false, "error"}]}'}
        422: {description: bad ids or an action that cannot be bulk-applied}
    """
    data = json_body()
    results = service.bulk(current_user, data.get("ids"), data.get("action", "approve"), data.get("comment"))
    return jsonify({"results": results})


@bp.get("/approvals/inbox")
@api_login_required
def get_inbox() -> Any:
    """The caller's inbox.
    ---
    get:
      summary: 未処理 / 起案中 / 後閲 / 供覧 / 処理済み, newest first, with totals
      tags: [approvals]
      parameters:
        - name: limit
          in: query
          description: each list's length; more than 200 counts as 200, 0 as 1
          schema: {type: integer, default: 50, minimum: 0, maximum: 2147483647}
        - name: offset
          in: query
          schema: {type: integer, default: 0, minimum: 0, maximum: 2147483647}
      responses:
        200: {description: '{"pending", "in_progress", "post_review", "circulate", "done", "counts"}'}
    """
    return jsonify(inbox.inbox(current_user, _int_arg("limit", inbox.DEFAULT_LIMIT), _int_arg("offset", 0)))


@bp.get("/approvals/<int:request_id>/pdf")
@api_login_required
def pdf(request_id: int) -> Any:
    """The 起案用紙 as PDF.
    ---
    get:
      summary: Approved → the signed record; otherwise a draft with a watermark, unsigned
      tags: [approvals]
      parameters: [{name: request_id, in: path, required: true, schema: {type: integer}}]
      responses:
        200:
          description: the PDF, as an attachment
          content: {application/pdf: {schema: {type: string, format: binary}}}
        202: {description: 'approved, the signed record is still being made: {"status": "pending",
          "message"} with Retry-After (seconds); a browser gets a page that reloads itself'}
        404: {description: not found}
        503: {description: the PDF renderer or signing keys are not available}
    """
    row = access.get_visible(current_user, request_id)
    try:
        data, filename = record.pdf_for(row)
    except record.Pending as pending:
        return _record_pending(pending)
    except record.Unavailable as unavailable:
        if _wants_page():  # the PDF link of a page: a page that says what to do, not JSON
            return Response(
                render_template("error.html", status=unavailable.status, message=unavailable.message),
                status=unavailable.status,
                mimetype="text/html",
            )
        raise
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _wants_page() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def _record_pending(pending: Any) -> Response:
    # Never an unsigned record as the final one: the caller is told to come back (202, Retry-After).
    retry = str(pending.retry_after)
    if _wants_page():
        page = render_template("approvals/record_pending.html", message=pending.message, retry=retry)
        response = Response(page, status=202, mimetype="text/html")
    else:
        response = jsonify({"status": "pending", "message": pending.message})
        response.status_code = 202
    response.headers["Retry-After"] = retry
    return response


# -- absences ---------------------------------------------------------------------------------------


@bp.get("/approvals/absences")
@api_login_required
def list_absences() -> Any:
    """My absences and the ones naming me deputy.
    ---
    get:
      summary: 不在設定 of the caller (and where the caller is deputy), not yet ended
      tags: [approvals]
      responses:
        200: {description: '{"absences": [{"id", "user", "deputy", "from", "until", "note"}]}'}
    """
    return jsonify({"absences": [absence.absence_json(a) for a in absence.current_and_future(current_user)]})


@bp.post("/approvals/absences")
@api_login_required
def create_absence() -> Any:
    """Register an absence.
    ---
    post:
      summary: 不在設定 (own; admins may set anyone's)
      tags: [approvals]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [deputy, from, until]
              properties:
                user: {type: string}
                deputy: {type: string}
                from: {type: string, format: date}
                until: {type: string, format: date}
                note: {type: string}
      responses:
        201: {description: the absence}
        403: {description: someone else's absence without the admin role}
        422: {description: bad dates or people}
    """
    return jsonify(absence.absence_json(absence.register(current_user, json_body()))), 201


@bp.delete("/approvals/absences/<int:absence_id>")
@api_login_required
def delete_absence(absence_id: int) -> Any:
    """Cancel an absence.
    ---
    delete:
      summary: Cancel an absence (its owner or an admin)
      tags: [approvals]
      parameters: [{name: absence_id, in: path, required: true, schema: {type: integer}}]
      responses:
        204: {description: cancelled}
        404: {description: not found}
    """
    absence.cancel(current_user, absence_id)
    return "", 204
