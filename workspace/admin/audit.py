"""監査ログ in 管理: the list with its filters, an entry's detail, the CSV export, the 改ざん検証 job.

The list, its CSV and the API read the log through one function (``search``) with one filter
(``AuditFilter``: who, action, target, a date range given in 和暦 or 西暦).  Reading the log is
itself audited (``audit.read``: a list page, a detail, an export — not the job's polling).

The verification walks the whole chain (``workspace.audit.verify``); on a village's years of entries
that takes a while, so it runs as a background job with a progress bar and says where the chain
first breaks, if it does.  Starting it is itself audited (``admin.job.start``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from flask import Response, jsonify, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import Select, func, or_, select

from workspace import audit, calendar, db, inputs
from workspace.admin import api_bp, api_role, bp, jobs, page_role
from workspace.errors import ServiceError
from workspace.models import AuditEntry, User

PER_PAGE = 50
MAX_PAGE = 100_000
MAX_TEXT = 200

PROBLEM_WORDS = {
    "changed": "内容が書き換えられています",
    "removed": "記録が削除されています",
    "inserted": "記録が差し込まれています",
    "truncated": "末尾の記録が失われています",
}

#: What each action means, in the words of the office (the raw action is shown small beside it).
ACTION_WORDS = {
    "signin.success": "サインイン",
    "signin.failure": "サインイン失敗",
    "signout": "サインアウト",
    "token.create": "APIトークンの発行",
    "token.revoke": "APIトークンの無効化",
    "user.create": "職員の登録",
    "user.update": "職員の登録内容の変更",
    "user.rename": "氏名の変更",
    "user.deactivate": "職員の利用停止",
    "user.enable": "職員の利用再開",
    "user.reset_password": "パスワードの再発行",
    "user.password": "パスワードの変更",
    "department.save": "課・係の登録・変更",
    "department.prefix": "文書番号の頭字の変更",
    "directory.sync": "名簿の同期",
    "demo.create": "デモデータの作成",
    "admin.job.start": "管理処理の開始",
    "audit.read": "監査ログの閲覧",
    "approval.create": "起案",
    "approval.edit": "起案の編集",
    "approval.copy": "起案の複写",
    "approval.delete": "起案の削除",
    "approval.submit": "決裁の申請",
    "approval.approve": "承認",
    "approval.decide": "決裁",
    "approval.reject": "否決",
    "approval.send_back": "差戻し",
    "approval.withdraw": "取下げ",
    "approval.attach": "添付の追加",
    "approval.detach": "添付の削除",
    "approval.record": "決裁記録（PDF）の作成",
    "approval.route.save": "決裁ルートの保存",
    "approval.absence.create": "代決者の登録",
    "approval.absence.delete": "代決者の取消し",
    "chat.channel.create": "チャンネルの作成",
    "chat.channel.invite": "チャンネルへの招待",
    "chat.channel.retention": "チャンネルの保存期間の変更",
    "chat.member.removed": "チャンネルからの退出",
    "chat.message.delete": "メッセージの削除",
    "chat.message.pin": "メッセージのピン留め",
    "chat.message.unpin": "ピン留めの解除",
    "chat.export": "チャットの書き出し",
    "chat.purge": "保存期間を過ぎたメッセージの削除",
    "chat.purge.unsent": "未送信の添付の削除",
    "classification.import": "文書分類の取り込み",
    "document.create": "文書の登録",
    "document.dispose": "文書の廃棄",
    "document.dispose_proposed": "文書の廃棄の起案",
    "document.dispose_decided": "文書の廃棄の決定",
    "document.extend": "保存期間の延長",
    "files.sweep": "不要なファイルの整理",
}
#: The first part of an action, for the ones not listed above ("denied.…" is a refused attempt).
ACTION_PREFIX_WORDS = {
    "denied": "拒否された操作",
    "user": "職員の操作",
    "department": "課・係の操作",
    "approval": "決裁の操作",
    "chat": "チャットの操作",
    "document": "文書の操作",
    "classification": "文書分類の操作",
    "admin": "管理の操作",
}
#: Actors that are not people.
ACTOR_WORDS = {"cli": "コマンド操作", "system": "システム"}


def action_word(action: str) -> str:
    """The Japanese words for ``action`` (``signin.success`` → サインイン), or its family's, or ''."""
    if action in ACTION_WORDS:
        return ACTION_WORDS[action]
    head = action.split(".", 1)[0]
    return ACTION_PREFIX_WORDS.get(head, "")


# --- dates in 和暦 or 西暦 --------------------------------------------------------------------------

_ERA_START = {row["name"]: dt.date.fromisoformat(row["start"]) for row in calendar.era_table()}
_WAREKI = re.compile(r"(令和|平成|昭和|大正|明治)(元|\d{1,2})年(\d{1,2})月(\d{1,2})日?")
_SEIREKI = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


def parse_date(text: str | None, field: str) -> dt.date | None:
    """Read a date typed as 令和8年12月4日 or 2026-12-04 (also 2026/12/4, full-width digits); '' → None.

    Raises ServiceError (422, ``field``) with a Japanese message for anything else, for a day that
    does not exist (2月30日) and for an era year the era never had (平成40年).
    """
    value = unicodedata.normalize("NFKC", text or "").replace(" ", "")
    if not value:
        return None
    wareki = _WAREKI.fullmatch(value)
    seireki = _SEIREKI.fullmatch(value)
    try:
        if wareki:
            era, year_text, month, day = wareki.groups()
            year = _ERA_START[era].year + (1 if year_text == "元" else int(year_text)) - 1
            found = dt.date(year, int(month), int(day))
            if calendar.era(found)[0] != era:
                raise ValueError("the era had no such day")
            return found
        if seireki:
            return dt.date(*(int(part) for part in seireki.groups()))
    except ValueError:
        pass
    raise ServiceError(
        "日付は「令和8年12月4日」か「2026/12/4」の形で、実在する日を入力してください。",
        "invalid_date",
        status=422,
        field=field,
    )


def date_text(day: dt.date | None) -> str:
    """A filter's day as the page shows it again: 令和8年12月4日 (a day before 明治 as 1800-01-01)."""
    if day is None:
        return ""
    try:
        return calendar.wareki(day)
    except ValueError:
        return day.isoformat()


def _start_of(day: dt.date) -> dt.datetime | None:
    """00:00 JST of ``day`` as an aware time, or None at the edges of the calendar (no bound)."""
    try:
        return dt.datetime.combine(day, dt.time(), calendar.JST).astimezone(dt.UTC)
    except OverflowError:
        return None


# --- the filter and the query ---------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show: who (氏名 or ユーザー名), action, target, and a date range (JST days)."""

    actor: str = ""
    action: str = ""
    target: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def from_args(cls, args: Any) -> AuditFilter:
        """Read the filter from query arguments (``actor``, ``action``, ``target``, ``from``, ``to``)."""
        texts = {}
        for name in ("actor", "action", "target"):
            value = (args.get(name) or "").strip()
            if len(value) > MAX_TEXT:
                raise ServiceError(
                    f"{MAX_TEXT}文字以内で入力してください。", "too_long", status=422, field=name
                )
            texts[name] = value
        date_from = parse_date(args.get("from"), "from")
        date_to = parse_date(args.get("to"), "to")
        if date_from and date_to and date_from > date_to:
            raise ServiceError(
                "終わりの日は始めの日より後にしてください。", "invalid_range", status=422, field="to"
            )
        return cls(date_from=date_from, date_to=date_to, **texts)

    def as_detail(self) -> dict[str, str]:
        """The filter as the ``audit.read`` entry records it (only what was given)."""
        found = asdict(self)
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in found.items() if v}

    def as_args(self) -> dict[str, str]:
        """The filter as query arguments (links to other pages, the CSV)."""
        args = {"actor": self.actor, "action": self.action, "target": self.target}
        if self.date_from:
            args["from"] = self.date_from.isoformat()
        if self.date_to:
            args["to"] = self.date_to.isoformat()
        return {k: v for k, v in args.items() if v}


def _like(text: str) -> str:
    """A LIKE pattern that finds ``text`` anywhere, its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filtered(wanted: AuditFilter) -> Select[Any]:
    query = select(AuditEntry)
    if wanted.actor:
        pattern = _like(wanted.actor)
        people = select(User.username).where(
            or_(
                User.display_name.ilike(pattern, escape="\\"),
                User.display_name_kana.ilike(pattern, escape="\\"),
                User.username.ilike(pattern, escape="\\"),
            )
        )
        query = query.where(or_(AuditEntry.actor.in_(people), AuditEntry.actor.ilike(pattern, escape="\\")))
    if wanted.action:
        # An exact action, or a family of them: "approval" finds approval.approve, approval.create…
        query = query.where(
            or_(
                AuditEntry.action == wanted.action,
                AuditEntry.action.startswith(wanted.action + ".", autoescape=True),
            )
        )
    if wanted.target:
        query = query.where(AuditEntry.target.ilike(_like(wanted.target), escape="\\"))
    if wanted.date_from and (start := _start_of(wanted.date_from)):
        query = query.where(AuditEntry.at >= start)
    if (
        wanted.date_to
        and wanted.date_to < dt.date.max
        and (end := _start_of(wanted.date_to + dt.timedelta(days=1)))
    ):
        query = query.where(AuditEntry.at < end)
    return query


def search(wanted: AuditFilter, page: int = 1, per_page: int = PER_PAGE) -> tuple[list[AuditEntry], int]:
    """The entries of page ``page`` (newest first) that match ``wanted``, and how many match in all."""
    query = _filtered(wanted)
    with db.read_session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page)
        ).all()
        return list(rows), total


def get_entry(entry_id: int) -> AuditEntry:
    """One entry; ServiceError 404 when there is none."""
    with db.read_session() as session:
        entry = session.get(AuditEntry, entry_id)
    if entry is None:
        raise ServiceError("その記録は見つかりません。", "not_found", status=404)
    return entry


def actions_in_log() -> list[str]:
    """Every action the log holds (the filter's choices), sorted."""
    with db.read_session() as session:
        return sorted(session.scalars(select(AuditEntry.action).distinct()).all())


def names_of(usernames: set[str]) -> dict[str, str]:
    """氏名 of each username that is a person (actors are stored as usernames)."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    with db.read_session() as session:
        rows = session.execute(
            select(User.username, User.display_name).where(User.username.in_(wanted))
        ).all()
    return dict(rows)


def actor_name(actor: str | None, names: dict[str, str]) -> str:
    """How a person sees the actor: 氏名, コマンド操作, システム, or the stored name itself."""
    if not actor:
        return "（記録なし）"
    return names.get(actor) or ACTOR_WORDS.get(actor) or actor


def chain_intact(entry: AuditEntry) -> bool:
    """Does the entry's own hash still match its content and its previous hash (this entry alone)?"""
    content = audit._canonical(entry.at, entry.actor, entry.action, entry.target, entry.address, entry.detail)
    return audit._chain_hash(entry.prev_hash, content) == entry.hash


def entry_json(entry: AuditEntry, names: dict[str, str]) -> dict[str, Any]:
    """An entry as the API gives it."""
    return {
        "id": entry.id,
        "at": calendar.isoformat(entry.at),
        "actor": entry.actor,
        "actor_name": actor_name(entry.actor, names),
        "action": entry.action,
        "action_label": action_word(entry.action),
        "target": entry.target,
        "address": entry.address,
        "detail": entry.detail or {},
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


@db.writes
def record_read(actor: User, what: str, detail: dict[str, Any]) -> None:
    """Audit a reading of the log: ``what`` is audit:list, audit:export or audit:<id>."""
    audit.record("audit.read", actor=actor.username, target=what, detail=detail)


# --- CSV -------------------------------------------------------------------------------------------

CSV_HEADER = (
    "番号",
    "日時",
    "氏名",
    "ユーザー名",
    "操作",
    "操作（記録名）",
    "対象",
    "接続元",
    "詳細",
    "ハッシュ",
    "前のハッシュ",
)
CSV_BATCH = 1000


def csv_lines(wanted: AuditFilter) -> Iterator[str]:
    """The filtered list as CSV text, newest first, in batches (a year of entries never sits in memory).

    The first piece starts with the BOM, so that Excel opens the UTF-8 file as UTF-8.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    yield "\ufeff" + out.getvalue()
    below: int | None = None
    while True:
        query = _filtered(wanted)
        if below is not None:
            query = query.where(AuditEntry.id < below)
        with db.read_session() as session:
            rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(CSV_BATCH)).all()
            session.expunge_all()
        if not rows:
            return
        names = names_of({r.actor for r in rows if r.actor})
        out.seek(0)
        out.truncate()
        for r in rows:
            at = calendar.to_jst(r.at)
            writer.writerow(
                [
                    r.id,
                    f"{calendar.wareki(at.date())} {at:%H:%M:%S}",
                    actor_name(r.actor, names),
                    r.actor or "",
                    action_word(r.action),
                    r.action,
                    r.target or "",
                    r.address or "",
                    json.dumps(r.detail or {}, ensure_ascii=False, sort_keys=True),
                    r.hash,
                    r.prev_hash,
                ]
            )
        yield out.getvalue()
        below = rows[-1].id


def csv_response(wanted: AuditFilter) -> Response:
    """The CSV download of the filtered list.

    Written batch by batch into a spooled temporary file (memory up to 8 MB, then disk), which is
    then sent: a year of entries never sits in memory, and the body needs no open database session.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - send_file closes it
    for piece in csv_lines(wanted):
        spool.write(piece.encode("utf-8"))
    spool.seek(0)
    stamp = calendar.now().strftime("%Y%m%d-%H%M")
    response = send_file(spool, mimetype="text/csv", as_attachment=True, download_name=f"audit-{stamp}.csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response


# --- 改ざん検証 ----------------------------------------------------------------------------------------


def verify_chain(run: jobs.Run) -> dict[str, Any]:
    """The job: verify the chain, reporting progress per batch; the result names the first bad entry."""
    result = audit.verify(
        progress=lambda checked, total: run.progress(
            checked / total if total else 1.0, f"{checked:,}件を確認しました"
        )
    )
    return {
        "ok": result.ok,
        "checked": result.checked,
        "problem": result.problem,
        "problem_label": PROBLEM_WORDS.get(result.problem or ""),
        "entry_id": result.entry_id,
    }


jobs.register("audit.verify", "改ざん検証", "workspace.admin.audit:verify_chain")


# --- pages -----------------------------------------------------------------------------------------


def _page_number(value: Any) -> int:
    if value in (None, ""):
        return 1
    number = inputs.parse_int(value, 1, MAX_PAGE)
    if number is None:
        raise ServiceError(
            f"ページは1から{MAX_PAGE:,}までの数で指定してください。", "invalid_page", status=422, field="page"
        )
    return number


@bp.get("/audit")
@page_role()
def audit_page() -> Any:
    """監査ログ: the filtered list (50 a page, newest first), the CSV link and the 改ざん検証 panel."""
    errors: dict[str, str] = {}
    try:
        wanted = AuditFilter.from_args(request.args)
    except ServiceError as error:
        errors[str(error.extra.get("field", "actor"))] = error.message
        wanted = AuditFilter()
    try:
        page = _page_number(request.args.get("page"))
    except ServiceError:
        page = 1
    entries, total = ([], 0) if errors else search(wanted, page)
    if not errors:
        record_read(current_user, "audit:list", {"filter": wanted.as_detail(), "page": page})
    names = names_of({e.actor for e in entries if e.actor})
    job = jobs.latest("audit.verify")
    pages = max(1, -(-total // PER_PAGE))
    return render_template(
        "workspace/admin/audit.html",
        entries=[entry_json(e, names) for e in entries],
        total=total,
        page=page,
        pages=pages,
        wanted=wanted,
        raw=request.args,
        errors=errors,
        date_text=date_text,
        actions=[(a, action_word(a)) for a in actions_in_log()],
        job=jobs.job_json(job) if job else None,
        page_url=lambda n: url_for("admin.audit_page", page=n, **wanted.as_args()),
        csv_url=url_for("admin.audit_csv", **wanted.as_args()),
    ), (422 if errors else 200)


@bp.get("/audit/export.csv")
@page_role()
def audit_csv() -> Any:
    """The CSV of the filtered list (UTF-8 with BOM); the export is audited before it streams."""
    wanted = AuditFilter.from_args(request.args)
    record_read(current_user, "audit:export", {"filter": wanted.as_detail()})
    return csv_response(wanted)


@bp.get("/audit/<int:entry_id>")
@page_role()
def audit_entry_page(entry_id: int) -> Any:
    """One entry: every field, the detail as indented JSON, its hash and the previous one."""
    entry = get_entry(entry_id)
    record_read(current_user, f"audit:{entry.id}", {})
    names = names_of({entry.actor} if entry.actor else set())
    shown = entry_json(entry, names)
    return render_template(
        "workspace/admin/audit_entry.html",
        entry=shown,
        detail_text=json.dumps(shown["detail"], ensure_ascii=False, indent=2, sort_keys=True),
        intact=chain_intact(entry),
        at_text=f"{calendar.wareki(calendar.to_jst(entry.at).date())} {calendar.to_jst(entry.at):%H:%M:%S}",
    )


# --- API -------------------------------------------------------------------------------------------


@api_bp.get("/admin/audit")
@api_role()
def api_audit() -> Any:
    """The audit log, filtered and paged, or as CSV.
    ---
    get:
      summary: The audit log, newest first, 50 a page, or the filtered list as CSV (role admin)
      description: >
        Reading is itself audited (an `audit.read` entry). Dates are days in Japan (JST), typed as
        2026-12-04 or in 和暦 (令和8年12月4日); `to` includes its whole day. `actor` finds a 氏名, 読み or
        ユーザー名 containing it; `action` is an action or its family (`approval` finds approval.approve…);
        `target` finds targets containing it.
      tags: [admin]
      parameters:
        - {name: actor, in: query, schema: {type: string, maxLength: 200}}
        - {name: action, in: query, schema: {type: string, maxLength: 200}}
        - {name: target, in: query, schema: {type: string, maxLength: 200}}
        - {name: from, in: query, schema: {anyOf: [{type: string, format: date}, {type: string, enum: ['']}]}}
        - {name: to, in: query, schema: {anyOf: [{type: string, format: date}, {type: string, enum: ['']}]}}
        - {name: page, in: query, schema: {type: integer, minimum: 1, maximum: 100000}}
        - {name: format, in: query, schema: {type: string, enum: ['', json, csv]}}
      responses:
        200:
          description: >
            {"entries": [{"id", "at", "actor", "actor_name", "action", "action_label", "target",
            "address", "detail", "prev_hash", "hash"}], "total", "page", "per_page"};
            with format=csv a UTF-8 CSV with BOM
          content:
            application/json: {schema: {type: object, required: [entries, total]}}
            text/csv: {schema: {type: string}}
        403: {description: not an administrator}
        422:
          description: >
            a date that is not a day (code invalid_date, field from|to), a range that ends before
            it starts, a bad page
    """
    wanted = AuditFilter.from_args(request.args)
    page = _page_number(request.args.get("page"))
    form = request.args.get("format", "")
    if form not in ("", "json", "csv"):
        raise ServiceError("format は json か csv です。", "invalid", status=422, field="format")
    if form == "csv":
        record_read(current_user, "audit:export", {"filter": wanted.as_detail()})
        return csv_response(wanted)
    entries, total = search(wanted, page)
    record_read(current_user, "audit:list", {"filter": wanted.as_detail(), "page": page})
    names = names_of({e.actor for e in entries if e.actor})
    return jsonify(
        {
            "entries": [entry_json(e, names) for e in entries],
            "total": total,
            "page": page,
            "per_page": PER_PAGE,
        }
    )


@api_bp.get("/admin/audit/<int:entry_id>")
@api_role()
def api_audit_entry(entry_id: int) -> Any:
    """One audit entry.
    ---
    get:
      summary: One audit entry with its detail and hashes (role admin); the reading is audited
      tags: [admin]
      responses:
        200:
          description: >
            {"id", "at", "actor", "actor_name", "action", "action_label", "target", "address",
            "detail", "prev_hash", "hash", "intact"}
        403: {description: not an administrator}
        404: {description: no such entry}
    """
    entry = get_entry(entry_id)
    record_read(current_user, f"audit:{entry.id}", {})
    body = entry_json(entry, names_of({entry.actor} if entry.actor else set()))
    body["intact"] = chain_intact(entry)
    return jsonify(body)


@api_bp.post("/admin/audit/verify")
@api_role()
def start_verify() -> Any:
    """Start the audit chain's verification.
    ---
    post:
      summary: Verify the audit log's hash chain in the background (role admin)
      description: >
        Answers 202 with the job at once; the same job if a verification is already running.
        Follow it with GET /api/v1/admin/jobs/{id} or Socket.IO `job:progress`. Its result:
        {"ok", "checked", "problem", "problem_label", "entry_id"} (the first bad entry, if any).
      tags: [admin]
      responses:
        202: {description: '{"job": {"id", "kind", "state", "progress", …}, "started": bool}'}
        403: {description: not an administrator}
    """
    return jobs.start_for_me("audit.verify")
