"""Pages of 文書管理 and 検索: registry list, registration, detail with preview, search, 満了 list.

Thin: parse the request, call a service, render.  Forms are checked for CSRF by Flask-WTF's global
CSRFProtect (every POST carries csrf_token).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from docsearch import disposal_approval, filing, registry, retention, search
from docsearch.api import file_response
from docsearch.errors import DocumentError
from docsearch.models import RETENTION_YEARS, VISIBILITY_LABELS
from docsearch.permissions import can_edit, can_view, is_records
from workspace import calendar, directory, inputs

bp = Blueprint("docsearch", __name__, static_folder="static", static_url_path="/docsearch/static")
PER_PAGE = 50
MAX_PAGE = 100_000  # 5 million rows: far beyond any registry, far below an overflowing OFFSET


@bp.app_template_filter("visibility_label")
def _visibility_label(value: str) -> str:
    return VISIBILITY_LABELS.get(value, value)


def _common() -> dict[str, Any]:
    return {
        "departments": directory.list_departments(),
        "classifications": registry.list_classifications(),
        "visibilities": VISIBILITY_LABELS,
        "retention_choices": RETENTION_YEARS,
        "this_year": calendar.fiscal_year(calendar.today()),
        "fiscal_years": _fiscal_years(calendar.fiscal_year(calendar.today())),
        "is_records": is_records(current_user),
    }


def _fiscal_years(this_year: int) -> list[tuple[int, str]]:
    """The 年度 a document is registered under, newest first: next year back to 30 years ago
    (保存年限 30年 records are still registered), as 令和8年度（2026年度）."""
    return [(year, calendar.fiscal_year_label(year)) for year in range(this_year + 1, this_year - 31, -1)]


@bp.get("/documents")
@login_required
def index() -> Any:
    """The registry list with filters (年度, 課, 分類, 秘区分, 件名)."""
    args = request.args
    # Bounded like every number from a client: a page beyond MAX_PAGE would overflow the OFFSET.
    page = args.get("page", type=inputs.bounded(1, MAX_PAGE)) or 1
    docs, total = registry.list_for(
        current_user,
        fiscal_year=args.get("fiscal_year", type=inputs.bounded(1900, 2200)),
        department_code=args.get("department") or None,
        classification=args.get("classification") or None,
        visibility=args.get("visibility") or None,
        title=(args.get("title") or "").strip()[:100] or None,
        page=page,
        per_page=PER_PAGE,
    )
    return render_template(
        "docsearch/list.html", docs=docs, total=total, page=page, per_page=PER_PAGE, args=args, **_common()
    )


@bp.route("/documents/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    """Register a document through the form."""
    status = 200
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise DocumentError(400, "ファイルを選んでください。")
            doc = registry.register(current_user, request.form.to_dict(), upload.stream, upload.filename)
        except DocumentError as error:
            flash(error.message, "error")
            status = 400 if error.status < 500 else error.status
        else:
            flash("文書を登録しました。", "info")
            return redirect(url_for("docsearch.detail", doc_id=doc.id))
    return render_template("docsearch/new.html", form=request.form, **_common()), status


@bp.get("/documents/<int:doc_id>")
@login_required
def detail(doc_id: int) -> Any:
    """Metadata, versions, a PDF preview, and for records staff the retention actions."""
    doc = _document(doc_id)
    return render_template(
        "docsearch/detail.html",
        doc=doc,
        can_edit=can_edit(current_user, doc),
        attached=[d for d in filing.attachments_of(doc) if can_view(current_user, d)],
        record=_visible(filing.record_of(doc)),
        **_common(),
    )


def _visible(doc: Any) -> Any:
    return doc if doc is not None and can_view(current_user, doc) else None


def _document(doc_id: int) -> Any:
    try:
        return registry.get_for(current_user, doc_id)
    except DocumentError:
        abort(404)


@bp.get("/documents/<int:doc_id>/file")
@login_required
def download(doc_id: int) -> Any:
    """Download a version's file (?version=N)."""
    return file_response(_document(doc_id), request.args.get("version", type=inputs.parse_id))


@bp.get("/documents/<int:doc_id>/preview")
@login_required
def preview(doc_id: int) -> Any:
    """The current PDF inline, for the preview frame (other types download)."""
    return file_response(_document(doc_id), inline=True)


@bp.post("/documents/<int:doc_id>/versions")
@login_required
def add_version(doc_id: int) -> Any:
    """Upload a new version from the detail page."""
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise DocumentError(400, "ファイルを選んでください。")
        registry.add_version(current_user, doc_id, upload.stream, upload.filename)
        flash("新しい版を登録しました。", "info")
    except DocumentError as error:
        if error.status == 404:
            abort(404)
        flash(error.message, "error")
    return redirect(url_for("docsearch.detail", doc_id=doc_id))


@bp.get("/search", endpoint="search")
@login_required
def search_page() -> Any:
    """The one search box (「検索」) with facets and highlighted snippets."""
    args = request.args.to_dict()
    result = None
    error = None
    if args.get("q"):
        try:
            result = search.search(current_user, args)
        except DocumentError as failure:
            error = failure.message
    names = {d.code: d.name for d in directory.list_departments()}
    return render_template(
        "docsearch/search.html",
        args=args,
        result=result,
        error=error,
        department_names=names,
        fiscal_years=_fiscal_years(calendar.fiscal_year(calendar.today())),
        nendo=_nendo,
        day=_day,
    ), (200 if error is None else 400)


def _nendo(value: Any) -> str:
    """令和8年度（2026年度） for a 年度 facet or filter value ('2026'); the value itself if not a year."""
    try:
        return calendar.fiscal_year_label(int(value))
    except (TypeError, ValueError):
        return str(value)


def _day(iso: str) -> str:
    """令和8年12月3日 for a hit's YYYY-MM-DD date."""
    try:
        return calendar.wareki(dt.date.fromisoformat(iso))
    except (TypeError, ValueError):
        return ""


@bp.get("/documents/retention")
@login_required
def retention_list() -> Any:
    """The 満了 list for records staff."""
    if not is_records(current_user):
        abort(403)
    as_of = _date(request.args.get("as_of")) or calendar.today()
    docs = retention.expired(current_user, as_of)
    return render_template(
        "docsearch/retention.html",
        docs=docs,
        as_of=as_of,
        disposals=retention.disposals(current_user)[:50],
        proposals=disposal_approval.proposals(current_user, limit=20),
        proposal_labels=disposal_approval.STATUS_LABELS,
    )


@bp.post("/documents/retention/propose")
@login_required
def propose_disposal() -> Any:
    """廃棄 through a 決裁: the checked documents of the 満了 list, with a reason (records staff)."""
    if not is_records(current_user):
        abort(403)
    try:
        proposal = disposal_approval.propose(
            current_user, request.form.getlist("document_id"), request.form.get("reason")
        )
        flash(
            f"廃棄の決裁を起案しました（{len(proposal.document_ids)}件）。決裁されると廃棄されます。", "info"
        )
    except DocumentError as error:
        flash(error.message, "error")
    return redirect(url_for("docsearch.retention_list"))


@bp.post("/documents/<int:doc_id>/dispose")
@login_required
def dispose(doc_id: int) -> Any:
    """廃棄 with a reason (records staff)."""
    try:
        retention.dispose(current_user, doc_id, request.form.get("reason"))
        flash("文書を廃棄しました。廃棄記録が残ります。", "info")
    except DocumentError as error:
        if error.status in (403, 404):
            abort(error.status)
        flash(error.message, "error")
    return redirect(url_for("docsearch.retention_list"))


@bp.post("/documents/<int:doc_id>/extend")
@login_required
def extend(doc_id: int) -> Any:
    """延長 with a reason and a new end date (records staff)."""
    permanent = request.form.get("permanent") == "1"
    try:
        retention.extend(
            current_user,
            doc_id,
            request.form.get("reason"),
            _date(request.form.get("retention_until")),
            permanent=permanent,
        )
        flash("保存期間を延長しました。", "info")
    except DocumentError as error:
        if error.status in (403, 404):
            abort(error.status)
        flash(error.message, "error")
    return redirect(url_for("docsearch.detail", doc_id=doc_id))


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
