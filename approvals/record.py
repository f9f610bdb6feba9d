"""The PDF record of a request: fill a ``RecordSheet`` from the stored state, render, sign, keep.

Rendering (approvals/pdf.py) and signing (approvals/signing.py) are pure; this module feeds them
from the database. An approved request's record is rendered and signed once, by the outbox job
``approvals.record`` that the decision owes in its own transaction: the approve request answers
without waiting for the renderer or the signing key, and a crash in between loses nothing. The job
stores the record in ``approval_records`` and hands it to the registry with ``approval_decided``
(sent inside the job's transaction, so the filing it owes commits with the record); every later
download returns exactly those bytes, and a download that comes before the job is done waits for it
or answers 202 (:class:`Pending`) — never an unsigned record as final. Other requests get an
unsigned draft with a watermark. Rendering and signing run off the event loop (workspace.offload).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from approvals import attachments, pdf, signing, signing_keys
from approvals.errors import ApprovalError
from approvals.labels import POST_REVIEWED_MARK, SLOT_LABELS, history_label, watermark
from approvals.models import ApprovalRequest, DecidedRecord
from approvals.pdf_layout import StampBox
from approvals.seal import SealImprint
from approvals.state import (
    DEPUTY_APPROVED,
    NOT_NEEDED,
    PULLED_UP,
    SKIPPED,
    SLOT_APPROVED,
    SLOT_REJECTED,
    RequestState,
)
from workspace import audit, calendar, db, offload, outbox, signals
from workspace.models import User
from workspace.text import for_display as shown  # names stored before the text rule, neutralised


class Unavailable(ApprovalError):
    """The renderer, its font or the signing keys cannot be used (→ 503)."""

    status = 503
    code = "unavailable"


class Pending(ApprovalError):
    """The decided record is still being signed (→ 202 with Retry-After): ask again shortly."""

    status = 202
    code = "record_pending"
    retry_after = 5


RECORD_JOB = "approvals.record"


@dataclass(frozen=True)
class Box:
    """One box of the 決裁欄 as both the PDF and the page draw it."""

    step_index: int
    user_id: int
    role: str
    name: str
    imprint: SealImprint | None
    mark: str | None
    row: int  # 0: 回議・決裁, 1: 合議


def family_name(display_name: str) -> str:
    """Return the family name printed on a seal (the display name up to the first space)."""
    return re.split(r"[\s\u3000]+", display_name.strip(), maxsplit=1)[0]


def _acted_on(slot_acted_at: str | None) -> dt.date:
    if not slot_acted_at:
        return calendar.today()
    return calendar.to_jst(dt.datetime.fromisoformat(slot_acted_at)).date()


def stamp_boxes(state: RequestState) -> list[Box]:
    """Return the 決裁欄 boxes: one per person on each review / consult / decide step (供覧 excluded)."""
    ids = {s.acted_by for st in state.steps for s in st.slots if s.acted_by is not None}
    users = {}
    if ids:
        users = {
            u.id: u for u in db.session().execute(select(User).where(User.id.in_(ids))).unique().scalars()
        }
    acknowledged = {(p.user_id, p.step_index) for p in state.post_reviews if p.acknowledged_at}
    boxes = []
    for step in state.steps:
        if step.kind == "circulate":
            continue
        for slot in step.slots:
            if slot.status == NOT_NEEDED:
                continue  # a 合議 settled by another member: no box, rather than an empty one
            person = slot.person
            role = step.label if step.kind == "decide" and step.label else (person.title or "")
            imprint, mark = None, None
            if slot.status in (SLOT_APPROVED, DEPUTY_APPROVED):
                actor = users.get(slot.acted_by or person.id)
                seal_name = shown(actor.display_name if actor else person.display_name)
                dept = actor.department.name if actor and actor.department else person.department_name
                seal_dept = shown(dept)
                if slot.status == DEPUTY_APPROVED:
                    acknowledged_now = (person.id, step.index) in acknowledged
                    mark = POST_REVIEWED_MARK if acknowledged_now else SLOT_LABELS[slot.status]
                imprint = SealImprint(seal_dept or "", _acted_on(slot.acted_at), family_name(seal_name), mark)
            elif slot.status in (PULLED_UP, SKIPPED, SLOT_REJECTED):
                mark = SLOT_LABELS[slot.status]
            boxes.append(
                Box(
                    step.index,
                    person.id,
                    shown(role),
                    shown(person.display_name),
                    imprint,
                    mark,
                    1 if step.kind == "consult" else 0,
                )
            )
    return boxes


def _sheet(row: ApprovalRequest, draft: bool) -> pdf.RecordSheet:
    state = RequestState.from_dict(row.state)
    boxes = stamp_boxes(state)
    stamp_rows = [[StampBox(b.role, b.imprint, b.mark) for b in boxes if b.row == r] for r in (0, 1)]
    actor_ids = {h.actor_id for h in state.history}
    names = {}
    if actor_ids:
        found = db.session().execute(select(User.id, User.display_name).where(User.id.in_(actor_ids)))
        names = {user_id: shown(name) for user_id, name in found}
    decide = state.steps[-1] if state.steps else None
    return pdf.RecordSheet(
        request_id=row.id,
        document_number=row.document_number,
        title=shown(row.title),
        body=shown(row.body),
        drafted_on=calendar.to_jst(row.submitted_at or row.created_at).date(),
        decided_on=calendar.to_jst(row.decided_at).date() if row.decided_at else None,
        drafter_name=shown(row.drafter.display_name),
        drafter_department=shown(row.department.name),
        classification=shown(row.classification),
        retention_years=row.retention_years,
        authority_label=(decide.label if decide and decide.label else "決裁"),
        amount=row.amount,
        stamp_rows=[r for r in stamp_rows if r],
        attachments=[
            pdf.AttachmentLine(a["name"], a["size"], a["sha256"]) for a in attachments.manifest(row)
        ],
        history=[
            pdf.HistoryLine(
                dt.datetime.fromisoformat(h.at),
                names.get(h.actor_id, "?"),
                history_label(h, state),
                shown(h.comment),
            )
            for h in state.history
        ],
        draft=draft,
        watermark=watermark(row.status),
        drafted_at=row.submitted_at or row.created_at,
        decided_at=row.decided_at,
    )


def key_dir() -> Path:
    """Return the directory of the village signing keys (``APPROVALS_KEY_DIR``, default DATA_DIR/keys)."""
    configured = current_app.config.get("APPROVALS_KEY_DIR")
    return Path(configured) if configured else Path(current_app.config["DATA_DIR"]) / "keys"


def _signer() -> signing.VillageSigner:
    directory = key_dir()
    if not (directory / "signing-key.pem").exists():
        # First decision on a fresh install: create the self-managed village CA, as `workspace keys
        # init` would. An operator who brings a CA runs that command (with --ca-cert) beforehand.
        try:
            signing_keys.init_keys(directory, village_name=current_app.config["VILLAGE_NAME"])
            current_app.logger.warning("created village signing keys in %s", directory)
        except FileExistsError:
            pass  # another process created them first
    return signing.load_signer(directory)


def render(row: ApprovalRequest, *, draft: bool) -> bytes:
    """Return the 起案用紙 PDF of ``row`` (unsigned); raise :class:`Unavailable` when it cannot be made."""
    sheet = _sheet(row, draft)  # read here, on the request's session; the drawing itself is pure
    try:
        return offload.run(pdf.render_record, sheet, font_path=current_app.config.get("APPROVALS_FONT_PATH"))
    except (OSError, ImportError) as error:
        current_app.logger.exception("rendering the record of request %s failed", row.id)
        raise Unavailable("PDFを作成できません（日本語フォントを確認してください）。") from error


def _signed_pdf(row: ApprovalRequest) -> bytes:
    """Render and sign the record of ``row`` (outside any write unit: no writer waits on it)."""
    unsigned = render(row, draft=False)
    try:
        return offload.run(signing.sign_pdf, unsigned, _signer())
    except Exception as error:  # key files unreadable, pyHanko failure: the record is owed, not lost
        current_app.logger.exception("signing the record of request %s failed", row.id)
        raise Unavailable("電子署名を付けられません（署名鍵を確認してください）。") from error


def owe_record(row: ApprovalRequest) -> None:
    """Owe the signed record of ``row``, in the transaction that decides it."""
    outbox.owe(RECORD_JOB, row.id)


@outbox.handler(RECORD_JOB)
def make_record(request_id: int) -> None:
    """The outbox job: make and keep the signed record, then send ``approval_decided``.

    The signal carries ``request_id``, ``pdf`` (the signed bytes) and ``attachments``: the list
    frozen at submission, each ``{"id", "name", "size", "sha256", "content_type", "path"}`` where
    ``path`` is the immutable content-addressed file (read or copy it; never move or change it).
    It is sent inside the write unit that keeps the record: what receivers owe (the filing) commits
    with it. Rendering and signing come first, outside any unit. A failure (no font, no key) raises:
    the job is retried later, the decision stands. Running it twice keeps one record.
    """
    row = db.session().get(ApprovalRequest, request_id)
    if row is None or row.status != "approved":
        return  # deleted or not approved after all: no record is owed
    if db.session().get(DecidedRecord, request_id) is not None:
        return  # done by an earlier run whose job row was not deleted
    signed = _signed_pdf(row)
    with db.write():
        if db.session().get(DecidedRecord, request_id) is not None:
            return  # another worker kept it meanwhile
        record = DecidedRecord(
            request_id=row.id, pdf=signed, sha256=hashlib.sha256(signed).hexdigest(), signed=True
        )
        db.session().add(record)
        audit.record(
            "approval.record", actor="system", target=f"approval:{row.id}", detail={"sha256": record.sha256}
        )
        signals.approval_decided.send(
            current_app._get_current_object(),
            request_id=request_id,
            pdf=record.pdf,
            attachments=attachments.decided_payload(row),
        )


#: Seconds a download of a decided record waits for its job before answering 202.
DOWNLOAD_WAIT_SECONDS = 15.0


def pdf_for(row: ApprovalRequest) -> tuple[bytes, str]:
    """Return (PDF bytes, file name): the kept signed record when approved, else a watermarked draft."""
    filename = f"approval-{row.id}.pdf"
    if row.status != "approved":
        return render(row, draft=True), filename
    record = db.session().get(DecidedRecord, row.id)
    if record is None:
        if not outbox.pending([RECORD_JOB], row.id):
            # Decided before records were jobs, or the job was lost with its data dir: owe it now.
            with db.write():
                owe_record(row)
        if not outbox.failed_attempts(RECORD_JOB, row.id):
            outbox.wait_done(RECORD_JOB, row.id, DOWNLOAD_WAIT_SECONDS)
        db.end_read()  # a fresh snapshot: the worker committed in its own session
        record = db.session().get(DecidedRecord, row.id)
        if record is None and outbox.failed_attempts(RECORD_JOB, row.id):
            # It was tried and failed (no font, no signing key): waiting will not help; it is retried.
            raise Unavailable(
                "決裁済みPDFを作成できません。管理者に連絡してください（署名鍵またはフォントの確認が必要です）。"
            )
        if record is None:
            raise Pending("電子署名を付けています。しばらくしてからもう一度開いてください。")
    return record.pdf, filename
