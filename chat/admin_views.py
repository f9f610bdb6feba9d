"""管理 › チャンネル: the administrators' pages under /admin/channels (role admin).

Thin views over chat's services (chat.archive, chat.retention, chat.export), the same ones the API
calls: the channel list (metadata only, never a message; direct messages only counted), one
channel's page (保存期間, アーカイブ, the members of a private channel) and 発言の書き出し, the
compliance export run as a background job whose file is downloaded here when it is done.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from chat import api_admin, archive, export, retention
from chat.errors import ChatError
from workspace import admin, db, inputs
from workspace.admin import jobs, page_role
from workspace.models import Department, User

bp = Blueprint("chat_admin", __name__, url_prefix="/admin/channels")

#: A form whose CSRF token no longer holds (the page was open too long, or the session changed).
STALE = "画面を開き直してから、もう一度お試しください。"


def _me() -> Any:
    return current_user._get_current_object()


def _retention_words(days: int | None) -> str:
    return "無期限" if days is None else f"{days:,}日"


@bp.app_template_filter("retention_words")
def retention_words(days: int | None) -> str:
    """保存期間 in words: 無期限, or the number of days."""
    return _retention_words(days)


# --- the list ------------------------------------------------------------------------------------


@bp.get("")
@page_role("admin")
def index() -> Any:
    """Every 課, public and private channel (kind, members, 保存期間, state); DMs only as counts."""
    return render_template("chat/admin_channels.html", overview=archive.overview(_me()))


# --- one channel ---------------------------------------------------------------------------------


def _channel_page(
    channel_id: int, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    row = archive.get_channel(_me(), channel_id)
    people = archive.members(_me(), channel_id) if row.channel.kind == "private" else []
    return (
        render_template(
            "chat/admin_channel.html",
            row=row,
            people=people,
            form=FlaskForm(),
            errors=errors or {},
            values=values or {},
            retention_max=retention.RETENTION_MAX_DAYS,
        ),
        status,
    )


@bp.get("/<int:channel_id>")
@page_role("admin")
def channel(channel_id: int) -> Any:
    """One channel: its facts, 保存期間, アーカイブ and, for a private channel, its members."""
    return _channel_page(channel_id)


def _refused(form: FlaskForm) -> bool:
    return not form.validate_on_submit()


@bp.post("/<int:channel_id>/retention")
@page_role("admin")
def set_retention(channel_id: int) -> Any:
    """Save 保存期間 (empty = 無期限); a refused value is shown next to the field (422)."""
    form = FlaskForm()
    typed = (request.form.get("retention_days") or "").strip()
    if _refused(form):
        return _channel_page(channel_id, errors={"retention_days": STALE},
                             values={"retention_days": typed}, status=422)
    days: Any = None
    if typed:
        days = inputs.parse_int(typed, -inputs.ID_MAX, inputs.ID_MAX)
        if days is None:
            return _channel_page(
                channel_id, errors={"retention_days": "日数を半角数字で入力してください（無期限は空欄）。"},
                values={"retention_days": typed}, status=422,
            )
    try:
        changed = retention.set_retention(_me(), channel_id, days)
    except ChatError as error:
        if error.status != 422:
            raise
        return _channel_page(
            channel_id,
            errors={"retention_days": f"保存期間は1〜{retention.RETENTION_MAX_DAYS:,}日で入力してください"
                                      "（無期限は空欄）。"},
            values={"retention_days": typed}, status=422,
        )
    flash(f"保存期間を「{_retention_words(changed.retention_days)}」にしました。", "info")
    return redirect(url_for(".channel", channel_id=channel_id), 303)


@bp.post("/<int:channel_id>/archive")
@page_role("admin")
def set_archived(channel_id: int) -> Any:
    """アーカイブする / アーカイブを解除する (the button's value says which)."""
    form = FlaskForm()
    if _refused(form):
        return _channel_page(channel_id, errors={"archive": STALE},
                             status=422)
    wanted = request.form.get("archived") == "1"
    archive.set_archived(_me(), channel_id, wanted)
    done = "アーカイブしました。メンバーは読むだけになります。" if wanted else "アーカイブを解除しました。"
    flash(done, "info")
    return redirect(url_for(".channel", channel_id=channel_id), 303)


@bp.post("/<int:channel_id>/members")
@page_role("admin")
def add_members(channel_id: int) -> Any:
    """Add the chosen people to a private channel; a refusal is shown next to the picker (422)."""
    form = FlaskForm()
    if _refused(form):
        return _channel_page(channel_id, errors={"usernames": STALE},
                             status=422)
    try:
        added = archive.add_members(_me(), channel_id, request.form.getlist("usernames"))
    except ChatError as error:
        if error.status not in (400, 422):
            raise
        return _channel_page(channel_id, errors={"usernames": error.message}, status=422)
    if added:
        flash("、".join(p.display_name for p in added) + " をメンバーに追加しました。", "info")
    else:
        flash("選んだ人はすでにメンバーです。", "info")
    return redirect(url_for(".channel", channel_id=channel_id), 303)


@bp.post("/<int:channel_id>/members/<username>/remove")
@page_role("admin")
def remove_member(channel_id: int, username: str) -> Any:
    """Take one person out of a private channel."""
    form = FlaskForm()
    if _refused(form):
        return _channel_page(channel_id, errors={"members": STALE},
                             status=422)
    person = archive.remove_member(_me(), channel_id, username)
    flash(f"{person.display_name} をメンバーから外しました。", "info")
    return redirect(url_for(".channel", channel_id=channel_id), 303)


# --- 発言の書き出し --------------------------------------------------------------------------------


def _people_by_department() -> list[tuple[str, list[User]]]:
    """Everyone (active or not: an export may be about a person who has left), grouped by 課."""
    with db.read_session() as session:
        everyone = select(User).order_by(User.display_name_kana, User.username)
        users = session.execute(everyone).unique().scalars()
        groups: dict[str, list[User]] = {}
        for user in users:
            department: Department | None = user.department
            groups.setdefault(department.name if department else "所属なし", []).append(user)
    return sorted(groups.items(), key=lambda g: (g[0] == "所属なし", g[0]))


def _target_name(job: Any, overview: archive.Overview, people: list[tuple[str, list[User]]]) -> str:
    """What an export job was about, in words (a channel's name or a person's 氏名)."""
    params = job.params or {}
    if params.get("channel_id") is not None:
        names = {row.channel.id: row.name for row in overview.rows}
        return names.get(params["channel_id"], "ダイレクトメッセージ")
    for _department, users in people:
        for user in users:
            if user.username == params.get("username"):
                return f"{user.display_name} の発言"
    return ""


def _export_page(*, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                 status: int = 200) -> Any:
    job = jobs.latest(export.JOB_KIND)
    overview = archive.overview(_me())
    people = _people_by_department()
    return (
        render_template(
            "chat/admin_export.html",
            form=FlaskForm(),
            overview=overview,
            people=people,
            job=jobs.job_json(job) if job else None,
            job_target=_target_name(job, overview, people) if job else "",
            download=export.job_file(job) is not None,
            errors=errors or {},
            values=values or {},
        ),
        status,
    )


@bp.get("/export")
@page_role("admin")
def export_page() -> Any:
    """発言の書き出し: choose a channel or a person and the days; the newest export and its file."""
    return _export_page()


#: An export error's input (export.criteria's ``field``) → the form's field that shows it.
_FIELD_OF = {"target": "target", "channel_id": "target", "username": "target", "from": "from", "to": "to",
             "format": "format"}


def _export_message(field: str, error: ChatError) -> str:
    """The form's words for a refused export (the service's are written for API callers)."""
    if field == "target":
        if error.status == 404:
            return "選んだ対象は見つかりません。選び直してください。"
        return "書き出す対象（チャンネルか職員）を選んでください。"
    if field in ("from", "to") and "YYYY" in error.message:
        return ("開始日" if field == "from" else "終了日") + "を正しい日付で入力してください。"
    if field == "to":
        return "終了日は開始日と同じか、それより後の日付にしてください。"
    return "形式は JSON か CSV を選んでください。"


@bp.post("/export")
@page_role("admin")
def start_export() -> Any:
    """Start 発言の書き出し in the background and come back to this page, which follows it."""
    form = FlaskForm()
    values = {k: (request.form.get(k) or "").strip() for k in ("target", "from", "to", "format")}
    if _refused(form):
        return _export_page(errors={"target": STALE},
                            values=values, status=422)
    kind, _, ref = values["target"].partition(":")
    params = {
        "channel_id": ref if kind == "channel" else None,
        "username": ref if kind == "user" else None,
        "from": values["from"] or None,
        "to": values["to"] or None,
        "format": values["format"] or "json",
    }
    try:
        job, started = export.start_job(_me(), params)
    except ChatError as error:
        if error.status == 403:
            raise
        field = _FIELD_OF.get(str(error.extra.get("field")), "target")
        message = _export_message(field, error)
        return _export_page(errors={field: message}, values=values, status=422)
    if not started:
        flash("前の書き出しがまだ終わっていません。終わってから、もう一度始めてください。", "info")
    return redirect(url_for(".export_page", job=job.id), 303)


@bp.get("/export/<int:job_id>/file")
@page_role("admin")
def export_file(job_id: int) -> Any:
    """The file of a finished 発言の書き出し (administrators only; it stays under DATA_DIR)."""
    return api_admin.send_export(job_id)


def init_app(app: Flask) -> None:
    """Register the pages and the チャンネル section of 管理."""
    app.register_blueprint(bp)
    admin.section(
        app,
        "チャンネル",
        "chat_admin.index",
        description="チャンネルの一覧、保存期間、アーカイブ、非公開チャンネルのメンバー、発言の書き出し。",
    )
