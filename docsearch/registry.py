"""The document registry (文書管理): registering documents and versions, reading them, classifications.

The service owns the rules; each write is a write unit.  A registration is all or nothing: metadata is
validated first, then the file is staged (hashed, sniffed, its text extracted); only then are the
rows written, the file moved to its content address and the transaction committed.  If anything
fails, the staged file is discarded and a file that had just entered the store is removed again,
so there is never a row without its file nor a new file without its row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from docsearch import extract, files, indexer
from docsearch.errors import DocumentError
from docsearch.models import (
    RETENTION_YEARS,
    STATUS_ACTIVE,
    VISIBILITIES,
    VISIBILITY_LABELS,
    Binder,
    Classification,
    Document,
    DocumentGrant,
    DocumentVersion,
    StoredFile,
)
from docsearch.permissions import can_edit, can_register_for, can_view, is_records
from workspace import audit, calendar, db, directory, inputs
from workspace.models import User
from workspace.text import TextRefused, clean_line

_PERMANENT = {"", "permanent", "永年", "none", "null"}
_VISIBILITY_ALIASES = {label: key for key, label in VISIBILITY_LABELS.items()}


@dataclass
class DocumentInput:
    """Validated metadata of a document to register."""

    title: str
    department_id: int
    fiscal_year: int
    visibility: str
    retention_years: int | None
    classification: Classification | None = None
    document_number: str | None = None
    received_on: dt.date | None = None
    sender: str | None = None
    addressee: str | None = None
    binder: str | None = None
    tags: list[str] = field(default_factory=list)
    grants: list[int] = field(default_factory=list)


def _text(data: dict[str, Any], key: str, limit: int, label: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    value = _clean_line(str(value), label).strip()
    if len(value) > limit:
        raise DocumentError(422, f"{label}は{limit}文字以内で入力してください。")
    return value or None


def _clean_line(value: str, label: str) -> str:
    # The shared rule for names and titles (workspace/text.py): the form, the API, the CSV import
    # and the 文書分類 table all pass through here.
    try:
        return clean_line(value, label)
    except TextRefused as error:
        raise DocumentError(422, str(error)) from None


def parse_retention(value: Any) -> int | None:
    """Return the 保存年限 in years (1, 3, 5, 10, 30) or None for 永年; raise DocumentError(422)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in _PERMANENT):
        return None
    years = inputs.parse_int(str(value).strip().removesuffix("年"), 1, 100)
    if years not in RETENTION_YEARS:
        raise DocumentError(422, "保存年限は 1・3・5・10・30 年または永年（permanent）から選んでください。")
    return years


def parse_input(data: dict[str, Any]) -> DocumentInput:
    """Validate registration metadata (form fields or CSV columns); raise DocumentError(422)."""
    title = _text(data, "title", 300, "件名")
    if not title:
        raise DocumentError(422, "件名を入力してください。")
    code = _text(data, "department_code", 32, "担当課コード")
    department = directory.get_department(code) if code else None
    if department is None:
        raise DocumentError(422, "担当課（department_code）が登録されていません。")
    fiscal_year = inputs.parse_int(str(data.get("fiscal_year", "")).strip().removesuffix("年度"), 0, 9999)
    if fiscal_year is None:
        raise DocumentError(422, "年度は西暦の数字（半角）で入力してください（例: 2026）。")
    if not 1900 <= fiscal_year <= 2200:
        raise DocumentError(422, "年度が範囲外です。")
    visibility = _text(data, "visibility", 16, "秘区分") or ""
    visibility = _VISIBILITY_ALIASES.get(visibility, visibility)
    if visibility not in VISIBILITIES:
        raise DocumentError(422, "秘区分は public・internal・department・secret から選んでください。")
    classification = None
    class_code = _text(data, "classification", 32, "文書分類")
    if class_code:
        classification = (
            db.session()
            .execute(select(Classification).where(Classification.code == class_code))
            .scalar_one_or_none()
        )
        if classification is None:
            raise DocumentError(422, f"文書分類「{class_code}」は登録されていません。")
        from docsearch import classifications  # it reads this module's text rules

        if classifications.is_retired(classification.code):
            raise DocumentError(
                422, f"文書分類「{classification.label}」は廃止されています。別の分類を選んでください。"
            )
    if "retention_years" not in data and classification is not None:
        retention = classification.default_retention_years
    elif "retention_years" not in data:
        raise DocumentError(422, "保存年限（retention_years）を指定してください。")
    else:
        retention = parse_retention(data.get("retention_years"))
    received = _text(data, "received_on", 10, "収受日")
    try:
        received_on = dt.date.fromisoformat(received) if received else None
    except ValueError:
        raise DocumentError(422, "収受日は YYYY-MM-DD の形式で入力してください。") from None
    tags_raw = data.get("tags") or ""
    tags = tags_raw if isinstance(tags_raw, list) else str(tags_raw).replace("、", ",").split(",")
    tags = [_clean_line(str(t), "タグ") for t in tags if t]
    tags = list(dict.fromkeys(t.strip()[:50] for t in tags if t.strip()))[:30]
    return DocumentInput(
        title=title,
        department_id=department.id,
        fiscal_year=fiscal_year,
        visibility=visibility,
        retention_years=retention,
        classification=classification,
        document_number=_text(data, "document_number", 100, "文書番号"),
        received_on=received_on,
        sender=_text(data, "sender", 200, "差出人"),
        addressee=_text(data, "addressee", 200, "宛先"),
        binder=_text(data, "binder", 200, "簿冊"),
        tags=tags,
        grants=_grant_ids(data.get("grants")),
    )


def _grant_ids(value: Any) -> list[int]:
    if not value:
        return []
    names = value if isinstance(value, list) else str(value).split(",")
    ids = []
    for name in (n.strip() for n in names if n and n.strip()):
        user = directory.get_user(name)
        if user is None:
            raise DocumentError(422, f"閲覧を許可する職員「{name}」が見つかりません。")
        ids.append(user.id)
    return ids


def _binder(name: str, department_id: int, fiscal_year: int) -> Binder:
    session = db.session()
    binder = session.execute(
        select(Binder).where(
            Binder.name == name, Binder.department_id == department_id, Binder.fiscal_year == fiscal_year
        )
    ).scalar_one_or_none()
    if binder is None:
        binder = Binder(name=name, department_id=department_id, fiscal_year=fiscal_year)
        session.add(binder)
    return binder


def _stored_file(staged: files.Staged) -> StoredFile:
    """Return the StoredFile row for staged content, extracting the text only for new content."""
    existing = db.session().get(StoredFile, staged.sha256)
    if existing is not None:
        return existing
    text = extract.extract_text(staged.path, staged.kind)
    row = StoredFile(
        sha256=staged.sha256, size=staged.size, kind=staged.kind, mime_type=staged.mime_type, text=text
    )
    db.session().add(row)
    return row


@contextlib.contextmanager
def _storing(staged: files.Staged) -> Iterator[list[bool]]:
    """A write unit that stores the staged file with its rows; undoes the store when the unit fails.

    The body calls _finish, which moves the file in and appends whether the store was new to it.
    """
    created: list[bool] = []
    try:
        with db.write():
            yield created
    except BaseException:
        files.discard(staged)
        if any(created) and db.session().get(StoredFile, staged.sha256) is None:
            files.remove(staged.sha256)
        raise


def _finish(
    staged: files.Staged,
    action: str,
    actor: User | None,
    doc: Document,
    created: list[bool],
    *,
    audit_actor: str | None = None,
) -> None:
    """Write the audit entry and the outbox row, and move the file to the store (see _storing)."""
    db.session().flush()
    audit.record(
        action,
        actor=actor.username if actor else (audit_actor or "cli"),
        target=f"document:{doc.id}",
        detail={"sha256": staged.sha256},
    )
    indexer.enqueue("document", doc.id)
    indexer.drain_after_commit()
    created.append(files.place(staged))


def register(
    actor: User | None,
    data: dict[str, Any],
    stream: IO[bytes],
    filename: str,
    *,
    audit_actor: str | None = None,
    before_commit: Callable[[Document], None] | None = None,
) -> Document:
    """Register a document with its first file version and commit; return it.

    actor None is the operator at the command line (bulk import) or the system (``audit_actor``
    names it in the audit trail): no per-課 check.  ``before_commit(doc)`` may add rows that must
    commit with the document, or not at all (the approval filing).

    Raises DocumentError: 422 bad metadata or unreadable file, 403 not allowed for that 課,
    413 too large, 415 type not accepted or contradicting its extension.
    """
    doc_input = parse_input(data)
    if actor is not None and not can_register_for(actor, doc_input.department_id):
        raise DocumentError(403, "この課の文書を登録する権限がありません。")
    staged = files.stage(stream, filename)
    with _storing(staged) as created:
        doc = _new_document(actor, doc_input, _stored_file(staged), _safe_name(filename, staged))
        if before_commit is not None:
            before_commit(doc)
        _finish(staged, "document.register", actor, doc, created, audit_actor=audit_actor)
    return doc


def _new_document(
    actor: User | None, doc_input: DocumentInput, stored: StoredFile, filename: str
) -> Document:
    doc = Document(
        title=doc_input.title,
        document_number=doc_input.document_number,
        classification=doc_input.classification,
        department_id=doc_input.department_id,
        fiscal_year=doc_input.fiscal_year,
        origin="received" if doc_input.received_on else "created",
        received_on=doc_input.received_on,
        sender=doc_input.sender,
        addressee=doc_input.addressee,
        retention_years=doc_input.retention_years,
        retention_until=calendar.retention_until(doc_input.fiscal_year, doc_input.retention_years),
        visibility=doc_input.visibility,
        tags=doc_input.tags,
        status=STATUS_ACTIVE,
        created_by_id=actor.id if actor else None,
    )
    if doc_input.binder:
        doc.binder = _binder(doc_input.binder, doc_input.department_id, doc_input.fiscal_year)
    doc.grants = [DocumentGrant(user_id=uid) for uid in doc_input.grants]
    doc.versions.append(
        DocumentVersion(
            number=1,
            file=stored,
            filename=filename,
            created_by_id=actor.id if actor else None,
        )
    )
    db.session().add(doc)
    return doc


def add_version(actor: User, doc_id: int, stream: IO[bytes], filename: str) -> Document:
    """Add a new file version to a document and commit; 404 when the actor may not see it."""
    doc = get_for(actor, doc_id)
    if not can_edit(actor, doc):
        raise DocumentError(403, "この文書を更新する権限がありません。")
    staged = files.stage(stream, filename)
    try:
        with _storing(staged) as created:
            stored = _stored_file(staged)
            number = (doc.versions[-1].number if doc.versions else 0) + 1
            doc.versions.append(
                DocumentVersion(
                    number=number, file=stored, filename=_safe_name(filename, staged), created_by_id=actor.id
                )
            )
            doc.updated_at = dt.datetime.now(dt.UTC)
            _finish(staged, "document.version", actor, doc, created)
    except IntegrityError:
        raise DocumentError(409, "同時に別の版が登録されました。もう一度お試しください。") from None
    return doc


def _safe_name(filename: str, staged: files.Staged) -> str:
    """The name shown and offered on download: the base name only, with a fitting extension."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = "".join(c for c in base if c.isprintable() and c not in '"<>|:*?')[:200]
    return base or f"document{files.KINDS[staged.kind][1][0]}"


def find_by_sha256(sha256: str) -> Document | None:
    """Return an active document whose current or earlier version has this content, or None."""
    return (
        db.session()
        .execute(
            select(Document)
            .join(DocumentVersion, DocumentVersion.document_id == Document.id)
            .where(DocumentVersion.sha256 == sha256, Document.status == STATUS_ACTIVE)
            .limit(1)
        )
        .scalar_one_or_none()
    )


def get_for(user: User, doc_id: int) -> Document:
    """Return the document if user may see it; DocumentError(404) otherwise (existence is not revealed)."""
    doc = db.session().get(Document, doc_id)
    if doc is None or not can_view(user, doc):
        raise DocumentError(404, "文書が見つかりません。", "not_found")
    return doc


def list_for(
    user: User,
    *,
    fiscal_year: int | None = None,
    department_code: str | None = None,
    classification: str | None = None,
    visibility: str | None = None,
    title: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Document], int]:
    """Return one page of active documents user may see (newest first) and the total count."""
    from sqlalchemy import and_, exists, or_

    if any("\x00" in (text or "") for text in (department_code, classification, visibility, title)):
        return [], 0  # no stored text holds a NUL (PostgreSQL cannot), so such a filter matches nothing

    from workspace.models import Department

    query = select(Document).where(Document.status == STATUS_ACTIVE)
    if not is_records(user):
        granted = exists().where(DocumentGrant.document_id == Document.id, DocumentGrant.user_id == user.id)
        query = query.where(
            or_(
                Document.visibility.in_(("public", "internal")),
                Document.created_by_id == user.id,
                granted,
                and_(Document.visibility == "department", Document.department_id == user.department_id),
            )
        )
    if fiscal_year:
        query = query.where(Document.fiscal_year == fiscal_year)
    if department_code:
        query = query.where(
            Document.department_id.in_(select(Department.id).where(Department.code == department_code))
        )
    if classification:
        query = query.where(
            Document.classification_id.in_(
                select(Classification.id).where(
                    Classification.code.startswith(classification, autoescape=True)
                )
            )
        )
    if visibility in VISIBILITIES:
        query = query.where(Document.visibility == visibility)
    if title:
        query = query.where(Document.title.contains(title, autoescape=True))
    total = db.session().execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session().execute(
        query.order_by(Document.id.desc()).limit(per_page).offset((max(page, 1) - 1) * per_page)
    )
    return list(rows.scalars().unique()), total


# --- classifications ----------------------------------------------------------------------------


def list_classifications() -> list[Classification]:
    """Return the 文書分類 table ordered by code."""
    return list(db.session().execute(select(Classification).order_by(Classification.code)).scalars())


def classification_level(item: Classification) -> int:
    """1 for a 大分類, 2 for a 中分類, 3 for a 小分類 (by which names the row has)."""
    return 3 if item.minor else 2 if item.middle else 1


def classifications_json(items: list[Classification]) -> list[dict[str, Any]]:
    """The public shape of the 文書分類 table: ``{"code", "name", "level", "parent", "retention_years"}``.

    ``name`` is the row's own name (小分類 of a 小分類 …); ``parent`` the code of the row one level up
    with the same names above (or null); ``retention_years`` the default 保存年限, "permanent" for 永年,
    and null for a 大分類 or 中分類 that has entries under it and no 保存年限 of its own (a heading:
    documents are filed under its 小分類).
    """
    headings = {(c.major, c.middle): c.code for c in items if classification_level(c) < 3}
    parents: set[str] = set()
    out = []
    for c in items:
        level = classification_level(c)
        parent = None
        if level == 3:
            parent = headings.get((c.major, c.middle)) or headings.get((c.major, None))
        elif level == 2:
            parent = headings.get((c.major, None))
        out.append(
            {
                "code": c.code,
                "name": c.minor or c.middle or c.major,
                "level": level,
                "parent": parent,
                "retention_years": c.default_retention_years
                if c.default_retention_years is not None
                else "permanent",
            }
        )
        if parent:
            parents.add(parent)
    for entry in out:  # a heading without a 保存年限 of its own has none to default to
        if entry["code"] in parents and entry["retention_years"] == "permanent" and entry["level"] < 3:
            entry["retention_years"] = None
    return out


def import_classifications(actor: User | None, data: bytes) -> int:
    """Load or update classifications from CSV (code, major, middle, minor, retention_years); commit.

    UTF-8 or Shift_JIS; a header row is required.  Returns the number of rows in the file.  actor None
    is the operator at the command line.  Nothing is applied when any row is bad (422).  The rules are
    ``docsearch.classifications.apply`` (here without removing rows the file leaves out).
    """
    from docsearch import classifications  # it reads this module's text rules

    return classifications.apply(actor, data, replace=False).rows


def document_json(doc: Document) -> dict[str, Any]:
    """The public shape of a document in the API."""
    version = doc.current_version
    return {
        "id": doc.id,
        "title": doc.title,
        "document_number": doc.document_number,
        "classification": doc.classification.code if doc.classification else None,
        "classification_label": doc.classification.label if doc.classification else None,
        "department_code": doc.department.code,
        "department_name": doc.department.name,
        "fiscal_year": doc.fiscal_year,
        "origin": doc.origin,
        "received_on": doc.received_on.isoformat() if doc.received_on else None,
        "sender": doc.sender,
        "addressee": doc.addressee,
        "binder": doc.binder.name if doc.binder else None,
        "tags": list(doc.tags or []),
        "retention_years": doc.retention_years if doc.retention_years is not None else "permanent",
        "retention_until": doc.retention_until.isoformat() if doc.retention_until else None,
        "visibility": doc.visibility,
        "status": doc.status,
        "sha256": version.sha256 if version else None,
        "size": version.file.size if version else None,
        "mime_type": version.file.mime_type if version else None,
        "filename": version.filename if version else None,
        "versions": [
            {
                "number": v.number,
                "sha256": v.sha256,
                "filename": v.filename,
                "size": v.file.size,
                "created_at": calendar.isoformat(v.created_at),
            }
            for v in doc.versions
        ],
        "created_at": calendar.isoformat(doc.created_at),
        "url": f"/documents/{doc.id}",
    }
