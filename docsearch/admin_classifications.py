"""管理 › 文書分類: the 大分類/中分類/小分類 table and its default 保存年限 (administrators, records staff).

Pages under /admin/classifications (the table as a tree, add, edit, retire or restore, CSV import with a
preview, CSV export) and the API under /api/v1/admin/classifications.  Thin: the rules are
``docsearch.classifications``, which ``workspace classifications import`` calls too.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm

from docsearch import classifications
from docsearch.classification_csv import MAX_BYTES, CsvProblem
from docsearch.models import RETENTION_YEARS
from workspace import admin
from workspace.errors import ServiceError
from workspace.web import ApiError, api_blueprint

ROLES = ("admin", "records")
bp = Blueprint("classifications_admin", __name__, url_prefix="/admin/classifications")
api_bp = api_blueprint("classifications_admin_api", __name__)

#: The 保存年限 a form offers, as (value, label).
RETENTION_CHOICES = [(str(y), f"{y}年") for y in RETENTION_YEARS] + [("permanent", "永年")]
EXPORT_NAMES = {"utf-8": "bunrui-utf8.csv", "shift_jis": "bunrui-sjis.csv"}


def init_app(app: Flask) -> None:
    """Register the pages, the API and the 管理 landing page's 文書分類 link."""
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    admin.section(
        app,
        "文書分類",
        "classifications_admin.index",
        roles=ROLES,
        description="大分類・中分類・小分類と標準の保存年限の確認と変更、CSVでの取込み・書き出し。",
    )


def _csrf_ok() -> bool:
    return FlaskForm().validate_on_submit()


EXPIRED = "画面の有効期限が切れました。もう一度お試しください。"


def _field_error(error: ServiceError) -> dict[str, str]:
    return {error.extra.get("field") or "form": error.message}


def _retention_form_value(years: int | None) -> str:
    return "permanent" if years is None else str(years)


# --- pages ------------------------------------------------------------------------------------


@bp.get("")
@admin.page_role(*ROLES)
def index() -> Any:
    """The table as a tree: each entry with its code, default 保存年限, documents and state."""
    return _index_page({})


@bp.route("/new", methods=["GET", "POST"])
@admin.page_role(*ROLES)
def new() -> Any:
    """Add a 大分類, or a 中分類/小分類 under the chosen parent."""
    values = {"parent": request.args.get("parent", ""), "code": "", "name": "", "retention_years": "10"}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        if not _csrf_ok():
            errors, status = {"form": EXPIRED}, 400
        else:
            try:
                item = classifications.add(
                    current_user,
                    parent=values["parent"] or None,
                    code=values["code"],
                    name=values["name"],
                    retention_years=values["retention_years"],
                )
            except ServiceError as error:
                errors, status = _field_error(error), error.status if error.status != 404 else 422
            else:
                flash(f"「{item.label}」を追加しました。", "info")
                return redirect(url_for(".index") + f"#c-{item.code}")
    return render_template(
        "docsearch/admin_classifications_new.html",
        form=FlaskForm(),
        values=values,
        errors=errors,
        parents=classifications.headings(),
        retention_choices=RETENTION_CHOICES,
    ), status


@bp.route("/<code>", methods=["GET", "POST"])
@admin.page_role(*ROLES)
def edit(code: str) -> Any:
    """Rename an entry and change its default 保存年限; retire (or delete) or restore it."""
    entry = _entry(code)
    values = {
        "name": entry.name,
        "retention_years": _retention_form_value(entry.item.default_retention_years),
    }
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        if not _csrf_ok():
            errors, status = {"form": EXPIRED}, 400
        else:
            try:
                classifications.update(
                    current_user, code, name=values["name"], retention_years=values["retention_years"]
                )
            except ServiceError as error:
                errors, status = _field_error(error), error.status
            else:
                flash("保存しました。", "info")
                return redirect(url_for(".index") + f"#c-{code}")
    return _edit_page(entry, values, errors, status)


def _entry(code: str) -> classifications.Entry:
    try:
        return classifications.find(code)
    except ServiceError:
        abort(404)


def _edit_page(
    entry: classifications.Entry, values: dict[str, str], errors: dict[str, str], status: int
) -> Any:
    return render_template(
        "docsearch/admin_classifications_edit.html",
        entry=entry,
        form=FlaskForm(),
        values=values,
        errors=errors,
        retention_choices=RETENTION_CHOICES,
        active_children=[c for c in entry.children if not c.retired],
    ), status


@bp.post("/<code>/retire")
@admin.page_role(*ROLES)
def retire(code: str) -> Any:
    """Delete the entry when nothing uses it, else retire it (廃止)."""
    entry = _entry(code)
    if not _csrf_ok():
        return _edit_page(entry, _values(entry), {"retire": EXPIRED}, 400)
    try:
        outcome = classifications.retire(current_user, code)
    except ServiceError as error:
        return _edit_page(entry, _values(entry), {"retire": error.message}, error.status)
    if outcome == "deleted":
        flash(f"「{entry.item.label}」を削除しました。", "info")
        return redirect(url_for(".index"))
    flash(f"「{entry.item.label}」を廃止しました。登録済みの文書はこの分類のままです。", "info")
    return redirect(url_for(".index") + f"#c-{code}")


@bp.post("/<code>/restore")
@admin.page_role(*ROLES)
def restore(code: str) -> Any:
    """Offer a retired entry for new documents again."""
    entry = _entry(code)
    if not _csrf_ok():
        return _edit_page(entry, _values(entry), {"retire": EXPIRED}, 400)
    try:
        classifications.restore(current_user, code)
    except ServiceError as error:
        return _edit_page(entry, _values(entry), {"retire": error.message}, error.status)
    flash(f"「{entry.item.label}」を使用中に戻しました。", "info")
    return redirect(url_for(".index") + f"#c-{code}")


def _values(entry: classifications.Entry) -> dict[str, str]:
    return {"name": entry.name, "retention_years": _retention_form_value(entry.item.default_retention_years)}


@bp.post("/import")
@admin.page_role(*ROLES)
def import_file() -> Any:
    """Step 1: read the chosen file and show what would change (nothing is written).
    Step 2 (``apply``): apply exactly what was previewed."""
    if not _csrf_ok():
        return _index_with_error(EXPIRED, 400)
    if request.form.get("apply"):
        try:
            data = base64.b64decode(request.form.get("data", ""), validate=True)
        except (binascii.Error, ValueError):
            return _index_with_error("取り込むファイルをもう一度選んでください。", 422)
        try:
            result = classifications.apply(current_user, data, expected=request.form.get("digest") or None)
        except ServiceError as error:
            if error.status == 409:
                return _preview(data, request.form.get("filename", ""), notice=error.message)
            return _index_with_error(error.message, error.status)
        flash(
            f"取り込みました（追加 {len(result.added)}件・変更 {len(result.changed)}件・"
            f"削除または廃止 {len(result.removed)}件）。",
            "info",
        )
        return redirect(url_for(".index"))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _index_with_error("CSVファイルを選んでください。", 422)
    data = upload.read(MAX_BYTES + 1)
    return _preview(data, upload.filename)


def _preview(data: bytes, filename: str, notice: str | None = None) -> Any:
    try:
        result = classifications.plan(data)
    except ServiceError as error:
        return _index_with_error(error.message, error.status)
    return render_template(
        "docsearch/admin_classifications_preview.html",
        result=result,
        filename=filename[:200],
        data=base64.b64encode(data).decode("ascii"),
        form=FlaskForm(),
        notice=notice,
    )


def _index_page(errors: dict[str, str]) -> str:
    roots = classifications.tree()
    entries = classifications.flat(roots)
    return render_template(
        "docsearch/admin_classifications.html",
        roots=roots,
        total=len(entries),
        retired=sum(1 for e in entries if e.retired),
        import_form=FlaskForm(),
        errors=errors,
    )


def _index_with_error(message: str, status: int) -> Any:
    return _index_page({"file": message}), status if status >= 400 else 422


@bp.get("/export.csv")
@admin.page_role(*ROLES)
def export() -> Any:
    """Download the table: ``?encoding=utf-8`` (with a BOM, for Excel; the default) or ``shift_jis``."""
    encoding = request.args.get("encoding", "utf-8")
    try:
        return _csv_response(encoding)
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for(".index"))


def _csv_response(encoding: str) -> Response:
    if encoding not in EXPORT_NAMES:
        raise ApiError(422, "文字コードは utf-8 か shift_jis を指定してください。", "invalid_encoding")
    data = classifications.export_csv(encoding)
    charset = "utf-8" if encoding == "utf-8" else "shift_jis"
    response = Response(data, mimetype="text/csv")
    response.headers["Content-Type"] = f"text/csv; charset={charset}"
    response.headers["Content-Disposition"] = f'attachment; filename="{EXPORT_NAMES[encoding]}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- API --------------------------------------------------------------------------------------


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


@api_bp.get("/admin/classifications")
@admin.api_role(*ROLES)
def api_list() -> Any:
    """The whole 文書分類 table with each entry's state and use.
    ---
    get:
      summary: The 文書分類 table for 管理, retired entries included (role admin or records)
      tags: [admin]
      responses:
        200:
          description: 'ordered by code: [{"code", "name", "label", "level", "parent", "retention_years",
            "retired", "documents"}]; retention_years is 1, 3, 5, 10, 30, "permanent" (永年) or null (a
            heading without one of its own)'
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  properties:
                    code: {type: string}
                    name: {type: string}
                    label: {type: string}
                    level: {type: integer, enum: [1, 2, 3]}
                    parent: {type: string, nullable: true}
                    retention_years:
                      {oneOf: [{type: integer}, {type: string, enum: [permanent]}], nullable: true}
                    retired: {type: boolean}
                    documents: {type: integer}
        401: {description: not signed in}
        403: {description: neither an administrator nor records staff}
    """
    out = []
    for e in classifications.flat(classifications.tree()):
        years: Any = e.item.default_retention_years
        if years is None:
            years = None if e.heading else "permanent"
        out.append(
            {
                "code": e.item.code,
                "name": e.name,
                "label": e.item.label,
                "level": e.level,
                "parent": e.parent,
                "retention_years": years,
                "retired": e.retired,
                "documents": e.documents,
            }
        )
    return jsonify(out)


@api_bp.post("/admin/classifications/import")
@admin.api_role(*ROLES)
def api_import() -> Any:
    """Import the 文書分類 table from CSV, or with dry_run=1 only say what would change.
    ---
    post:
      summary: Import the 文書分類 table from CSV (UTF-8 or Shift_JIS), or preview it (role admin or records)
      description: >
        The file is the whole table, as GET /api/v1/admin/classifications/export writes it (columns
        コード, 大分類, 中分類, 小分類, 保存年限, 状態; or code, major, middle, minor, retention_years,
        status). An entry the file leaves out is removed: deleted, or retired (廃止) when documents use
        it. With dry_run=1 nothing is written. A bad line (malformed CSV, unknown 保存年限, duplicate
        code, a 小分類 whose 中分類 is missing) answers 422 with a message naming the line, and nothing
        changes. `digest` (optional) is the digest a dry run answered: the import is then applied only
        if it is still exactly that change (else 409).
      tags: [admin]
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file]
              properties:
                file: {type: string, format: binary}
                dry_run: {type: string, enum: ['0', '1', 'true', 'false']}
                digest: {type: string, maxLength: 64}
      responses:
        200:
          description: '{"added": 2, "changed": 1, "removed": 0, "rows": {"added": […], "changed": […],
            "removed": […]}, "total", "applied": bool, "digest"}; each row {"code", "label", "level",
            "major", "middle", "minor", "retention_years", "retention_label", "state"}, a changed row
            with "before", a removed row with "outcome" (削除 or 廃止) and "documents"'
          content:
            application/json:
              schema:
                type: object
                required: [added, changed, removed, rows, applied]
                properties:
                  added: {type: integer}
                  changed: {type: integer}
                  removed: {type: integer}
                  rows: {type: object}
                  total: {type: integer}
                  applied: {type: boolean}
                  digest: {type: string}
        400: {description: 'no file, or a dry_run that is not 0 or 1'}
        401: {description: not signed in}
        403: {description: neither an administrator nor records staff}
        409: {description: the table changed since the dry run whose digest was given}
        422: {description: 'a bad line: {"error": {"code": "invalid_csv", "message": "3行目: …", "line": 3}}'}
    """
    flag = (request.form.get("dry_run") or "").strip().lower()
    if flag not in _TRUE | _FALSE:
        raise ApiError(400, "dry_run は 1 か 0 を指定してください。")
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(400, "CSVファイル（file）を添付してください。")
    data = upload.read(MAX_BYTES + 1)
    digest = (request.form.get("digest") or "").strip()[:64] or None
    try:
        if flag in _TRUE:
            result = classifications.plan(data)
        else:
            result = classifications.apply(current_user, data, expected=digest)
    except CsvProblem as error:
        raise ApiError(422, error.message, "invalid_csv", line=error.line) from None
    return result.as_dict()


@api_bp.get("/admin/classifications/export")
@admin.api_role(*ROLES)
def api_export() -> Any:
    """Download the 文書分類 table as CSV.
    ---
    get:
      summary: The 文書分類 table as CSV, UTF-8 with a BOM (Excel) or Shift_JIS (role admin or records)
      tags: [admin]
      parameters:
        - {name: encoding, in: query, schema: {type: string, enum: [utf-8, shift_jis], default: utf-8}}
      responses:
        200:
          description: 'CSV: コード,大分類,中分類,小分類,保存年限,状態 (状態 廃止 for a retired entry)'
          content:
            text/csv:
              schema: {type: string}
        401: {description: not signed in}
        403: {description: neither an administrator nor records staff}
        422: {description: 'an unknown encoding, or a name Shift_JIS cannot hold'}
    """
    return _csv_response(request.args.get("encoding", "utf-8"))
