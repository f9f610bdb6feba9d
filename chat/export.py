"""The administrator's compliance export of chat: one channel or one person, over a date range.

It is evidence, so it holds what members no longer see: the original body of soft-deleted messages
(with who deleted them and when) and every earlier version of an edited message. Attachments appear
as metadata with their sha256, which identifies the bytes in the store; the bytes themselves are
written only by the command line (`--include-files`, a zip), run by an operator on the server. The
export is itself audited.

Dates are calendar days in Japan: --from 2026-04-01 --to 2026-04-30 covers 2026-04-01 00:00 to
2026-05-01 00:00 JST.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from chat import files
from chat.errors import ChatError
from chat.models import Channel, Member, Message, MessageEdit
from workspace import audit, calendar, db, inputs
from workspace.admin import jobs
from workspace.models import AdminJob, User

FORMATS = ("json", "csv")
DEFAULT_API_MAX = 100_000
CSV_COLUMNS = (
    "id",
    "channel_id",
    "channel_name",
    "channel_kind",
    "author_username",
    "author_display_name",
    "created_at",
    "edited_at",
    "deleted_at",
    "deleted_by",
    "thread_id",
    "body",
    "edits",
    "attachments",
)
# A spreadsheet runs a cell that starts like a formula; the CSV neutralises those (JSON keeps all as is).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Criteria:
    """What to export: exactly one of channel or user, and an optional range of days."""

    channel: Channel | None
    user: User | None
    since: dt.date | None
    until: dt.date | None

    def as_dict(self) -> dict[str, Any]:
        """The criteria as written into the export and the audit log."""
        return {
            "channel_id": self.channel.id if self.channel else None,
            "username": self.user.username if self.user else None,
            "from": self.since.isoformat() if self.since else None,
            "to": self.until.isoformat() if self.until else None,
        }

    @property
    def target(self) -> str:
        """The audit target: channel:<id> or user:<username>."""
        return f"channel:{self.channel.id}" if self.channel else f"user:{self.user.username}"  # type: ignore[union-attr]


def _date(value: Any, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ChatError(
            400, f"{name} は YYYY-MM-DD の形式で指定してください。", "bad_request", field=name
        ) from None


def criteria(channel_id: Any = None, username: Any = None, since: Any = None, until: Any = None) -> Criteria:
    """Check and resolve the export's criteria, or raise ChatError (400 bad input, 404 unknown).

    Each error names its input in ``field`` (channel_id, username, from, to) for a form to show it there.
    """
    if (channel_id in (None, "")) == (username in (None, "")):
        raise ChatError(
            400, "channel_id か username のどちらか一方を指定してください。", "bad_request", field="target"
        )
    start, end = _date(since, "from"), _date(until, "to")
    if start and end and start > end:
        raise ChatError(400, "from は to 以前の日付にしてください。", "bad_request", field="to")
    session = db.session()
    channel = user = None
    if channel_id not in (None, ""):
        # The CLI passes an int, the API the query's text: the one parser takes both, bounded.
        if inputs.parse_int(channel_id, -inputs.ID_MAX, inputs.ID_MAX) is None:
            raise ChatError(400, "channel_id は整数で指定してください。", "bad_request", field="channel_id")
        number = inputs.parse_id(channel_id)
        channel = session.get(Channel, number) if number is not None else None
        if channel is None:
            raise ChatError(404, "見つかりません。", "not_found", field="channel_id")
    else:
        user = (
            session.execute(select(User).where(User.username == str(username))).unique().scalar_one_or_none()
        )
        if user is None:
            raise ChatError(404, "見つかりません。", "not_found", field="username")
    return Criteria(channel, user, start, end)


def _bound(day: dt.date) -> dt.datetime:
    """The first instant of a day in Japan, in UTC (how the database stores times)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=calendar.JST).astimezone(dt.UTC)


def _query(crit: Criteria) -> Any:
    query = select(Message)
    if crit.channel is not None:
        query = query.where(Message.channel_id == crit.channel.id)
    else:
        query = query.where(Message.author_id == crit.user.id)  # type: ignore[union-attr]
    if crit.since:
        query = query.where(Message.created_at >= _bound(crit.since))
    if crit.until:
        query = query.where(Message.created_at < _bound(crit.until + dt.timedelta(days=1)))
    return query.order_by(Message.channel_id, Message.id)


def _channel_name(channel: Channel) -> str:
    if channel.kind == "department" and channel.department is not None:
        return channel.department.name
    if channel.kind == "direct":
        people = db.session().execute(
            select(User.username)
            .join(Member, Member.user_id == User.id)
            .where(Member.channel_id == channel.id)
        )
        return "DM: " + ", ".join(sorted(people.scalars()))
    return channel.name


def collect(crit: Criteria, limit: int | None = None) -> list[dict[str, Any]]:
    """Return the export's records, oldest first per channel; raise 413 past limit (if given)."""
    session = db.session()
    query = _query(crit)
    if limit is not None:
        query = query.limit(limit + 1)
    found = list(session.execute(query).unique().scalars())
    if limit is not None and len(found) > limit:
        raise ChatError(
            413,
            f"対象が{limit}件を超えます。期間を絞るか、コマンド（workspace chat export）を使ってください。",
            "too_large",
        )
    ids = [m.id for m in found]
    edits: dict[int, list[dict[str, Any]]] = {}
    editors: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(MessageEdit, User.username)
            .outerjoin(User, User.id == MessageEdit.editor_id)
            .where(MessageEdit.message_id.in_(ids[start : start + 500]))
            .order_by(MessageEdit.id)
        )
        for edit, editor in rows:
            editors[edit.id] = editor
            edits.setdefault(edit.message_id, []).append(
                {
                    "previous_body": edit.previous_body,
                    "edited_at": calendar.isoformat(edit.edited_at),
                    "editor": editor,
                }
            )
    channel_cache: dict[int, tuple[str, str]] = {}
    user_cache: dict[int, str | None] = {}
    records = []
    for message in found:
        if message.channel_id not in channel_cache:
            channel = session.get(Channel, message.channel_id)
            channel_cache[message.channel_id] = (_channel_name(channel), channel.kind)  # type: ignore[arg-type]
        name, kind = channel_cache[message.channel_id]
        deleted_by = None
        if message.deleted_by_id is not None:
            if message.deleted_by_id not in user_cache:
                user_cache[message.deleted_by_id] = session.execute(
                    select(User.username).where(User.id == message.deleted_by_id)
                ).scalar_one_or_none()
            deleted_by = user_cache[message.deleted_by_id]
        records.append(
            {
                "id": message.id,
                "channel": {"id": message.channel_id, "name": name, "kind": kind},
                "author": {"username": message.author.username, "display_name": message.author.display_name},
                "body": message.body,  # the original text, also for a deleted message: evidence
                "created_at": calendar.isoformat(message.created_at),
                "edited_at": calendar.isoformat(message.edited_at),
                "deleted": message.deleted_at is not None,
                "deleted_at": calendar.isoformat(message.deleted_at),
                "deleted_by": deleted_by,
                "thread_id": message.thread_id,
                "client_msg_id": message.client_msg_id,
                "pinned_at": calendar.isoformat(message.pinned_at),
                "edits": edits.get(message.id, []),
                "attachments": [
                    {
                        "id": a.id,
                        "filename": a.filename,
                        "size": a.size,
                        "mime_type": a.mime_type,
                        "sha256": a.sha256,
                    }
                    for a in message.attachments
                ],
            }
        )
    return records


def document(crit: Criteria, records: list[dict[str, Any]], exporter: str) -> dict[str, Any]:
    """The JSON export: who exported what, when, and the records."""
    return {
        "exported_at": calendar.isoformat(calendar.now()),
        "exported_by": exporter,
        "criteria": crit.as_dict(),
        "count": len(records),
        "messages": records,
    }


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(records: list[dict[str, Any]]) -> str:
    """One row per message; edits and attachments as JSON in their cells. Starts with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        writer.writerow(
            _cell(v)
            for v in (
                r["id"],
                r["channel"]["id"],
                r["channel"]["name"],
                r["channel"]["kind"],
                r["author"]["username"],
                r["author"]["display_name"],
                r["created_at"],
                r["edited_at"] or "",
                r["deleted_at"] or "",
                r["deleted_by"] or "",
                r["thread_id"] or "",
                r["body"],
                json.dumps(r["edits"], ensure_ascii=False) if r["edits"] else "",
                json.dumps(r["attachments"], ensure_ascii=False) if r["attachments"] else "",
            )
        )
    return "\ufeff" + out.getvalue()


def render(crit: Criteria, records: list[dict[str, Any]], exporter: str, fmt: str) -> str:
    """The export as text in fmt (json or csv)."""
    if fmt == "csv":
        return to_csv(records)
    return json.dumps(document(crit, records, exporter), ensure_ascii=False, indent=2)


def write_zip(path: Any, crit: Criteria, records: list[dict[str, Any]], exporter: str, fmt: str) -> int:
    """Write export.<fmt> and files/<sha256> of every attachment into a zip; return files written."""
    written: set[str] = set()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"export.{fmt}", render(crit, records, exporter, fmt))
        for record in records:
            for attachment in record["attachments"]:
                digest = attachment["sha256"]
                if digest in written:
                    continue
                source = files.path_for(digest)
                if source.is_file():
                    zf.write(source, f"files/{digest}")
                    written.add(digest)
    return len(written)


def check_format(value: Any) -> str:
    """Return json or csv (default json), or raise ChatError 400."""
    fmt = value or "json"
    if fmt not in FORMATS:
        raise ChatError(400, "format は json か csv です。", "bad_request", field="format")
    return str(fmt)


@db.writes
def record_audit(
    actor: str, crit: Criteria, count: int, fmt: str, via: str, with_files: bool = False
) -> None:
    """Write the audit entry of an export; commit."""
    audit.record(
        "chat.export",
        actor=actor,
        target=crit.target,
        detail={**crit.as_dict(), "format": fmt, "messages": count, "via": via, "files": with_files},
    )


# --- the export as a 管理 background job (発言の書き出し) ---------------------------------------
# The page and POST /api/v1/admin/chat/exports check the criteria and start the job; the job (in a
# child interpreter) collects, renders and writes the file under DATA_DIR/exports/chat, audits the
# export, and names the file in its result. Only administrators download it (the page or the API).

JOB_KIND = "chat.export"
JOB_LABEL = "発言の書き出し"


def export_dir() -> Path:
    """Where finished exports are kept: DATA_DIR/exports/chat (outside any web root)."""
    return Path(current_app.config["DATA_DIR"]) / "exports" / "chat"


def start_job(admin: User, params: dict[str, Any]) -> tuple[AdminJob, bool]:
    """Check the criteria (raise ChatError as criteria() does) and start 発言の書き出し for ``admin``.

    ``params``: channel_id or username, from, to (YYYY-MM-DD or empty), format (json or csv).
    Returns (job, started); while an export is running, that one is returned (started False).
    """
    if not admin.has_role("admin"):
        raise ChatError(403, "エクスポートできるのは管理者だけです。", "forbidden")
    fmt = check_format(params.get("format"))
    crit = criteria(params.get("channel_id"), params.get("username"), params.get("from"), params.get("to"))
    return jobs.start(JOB_KIND, admin, {**crit.as_dict(), "format": fmt})


def run_job(run: jobs.Run) -> dict[str, Any]:
    """The job: the same export as the API's, written to a file; its result names the file."""
    params = run.params
    run.progress(0.05, "対象のメッセージを集めています", force=True)
    crit = criteria(params.get("channel_id"), params.get("username"), params.get("from"), params.get("to"))
    fmt = check_format(params.get("format"))
    with db.read_session() as session:
        requester = session.get(User, run.requested_by) if run.requested_by else None
        exporter = requester.username if requester is not None else "system"
    records = collect(crit)
    run.progress(0.6, f"{len(records):,}件を書き出しています", force=True)
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"job-{run.job_id}.{fmt}"
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_text(render(crit, records, exporter, fmt), encoding="utf-8")
    partial.replace(path)  # a download never sees half a file
    record_audit(exporter, crit, len(records), fmt, via="admin")
    run.progress(1.0, "書き出しました", force=True)
    stamp = calendar.now().strftime("%Y%m%d")
    return {
        "messages": len(records),
        "format": fmt,
        "size": path.stat().st_size,
        "file": path.name,
        "download_name": f"chat-export-{crit.target.replace(':', '-')}-{stamp}.{fmt}"
        if crit.target.isascii()
        else f"chat-export-{stamp}.{fmt}",
        "criteria": crit.as_dict(),
    }


def job_file(job: AdminJob | None) -> Path | None:
    """The file of a finished 発言の書き出し, or None (another kind, not done, or the file is gone)."""
    if job is None or job.kind != JOB_KIND or job.state != "done":
        return None
    name = str((job.result or {}).get("file") or "")
    if name != f"job-{job.id}.{(job.result or {}).get('format')}":
        return None  # only the name the job itself wrote: never a path from elsewhere
    path = export_dir() / name
    return path if path.is_file() else None


jobs.register(JOB_KIND, JOB_LABEL, "chat.export:run_job")
