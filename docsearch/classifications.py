"""The 文書分類 table's rules: add, rename, change the 保存年限, retire, restore, import and export.

One service for the 管理 pages, their API and ``workspace classifications import``: no rule is
written twice.  Every change is audited in its own write unit (target ``classification:<code>``,
detail ``{"before", "after"}``).

* The table is 大分類 › 中分類 › 小分類; each row carries its names (``major``, ``middle``, ``minor``),
  so renaming a 大分類 or 中分類 renames it in every row under it.
* Changing a default 保存年限 changes what a document registered from now on gets; a document
  registered already keeps its own 保存年限 and 満了日.
* An entry no document uses is deleted; one in use (a document, even a disposed one, still points
  at it) is **retired** (廃止): it stays in the table, its documents keep it, and it is no longer
  offered for new documents (the picker leaves it out, registration refuses it).
* An import is a whole table (as exported): rows not in the file are removed (deleted, or retired
  when in use).  ``plan`` is the dry run; ``apply`` changes the table only if it is what was
  previewed (the digest), and nothing at all when any line is bad.

The retired state is the row's ``retired_at`` (set when it is retired, cleared when it is restored);
the audit entries ``classification.retire`` / ``classification.restore`` say who did it and when.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select

from docsearch import classification_csv
from docsearch.classification_csv import CsvProblem, Row
from docsearch.models import Classification, Document
from docsearch.permissions import is_records
from workspace import audit, db
from workspace.errors import ServiceError
from workspace.models import User, utcnow

RETIRE = "classification.retire"
RESTORE = "classification.restore"
DELETE = "classification.delete"
LEVEL_NAMES = {1: "大分類", 2: "中分類", 3: "小分類"}


class ClassificationError(ServiceError):
    """A refused change of the 文書分類 table (422 unless said; ``field`` names the input)."""

    status = 422
    code = "invalid_classification"


def require_records(actor: User | None) -> None:
    """Raise 403 unless actor (None: the operator at the command line) is records staff or an admin."""
    if actor is not None and not is_records(actor):
        raise ClassificationError(
            "文書分類を変更できるのは文書担当者と管理者だけです。", "forbidden", status=403
        )


def _actor(actor: User | None) -> str:
    return actor.username if actor is not None else "cli"


def _target(code: str) -> str:
    return f"classification:{code}"


# --- reading the table -----------------------------------------------------------------------


def retired_codes() -> set[str]:
    """The codes that are retired now."""
    return set(
        db.session().scalars(select(Classification.code).where(Classification.retired_at.is_not(None)))
    )


def is_retired(code: str) -> bool:
    """True when the entry ``code`` is retired (no longer offered for new documents)."""
    return code in retired_codes()


def usage() -> dict[int, int]:
    """Documents per classification id (every document, disposed ones too: they still point at it)."""
    rows = db.session().execute(
        select(Document.classification_id, func.count())
        .where(Document.classification_id.is_not(None))
        .group_by(Document.classification_id)
    )
    return {cid: count for cid, count in rows}


def _row(item: Classification, retired: set[str]) -> Row:
    return Row(
        item.code, item.major, item.middle, item.minor, item.default_retention_years, item.code in retired
    )


@dataclass
class Entry:
    """One entry of the table as the 管理 page shows it."""

    item: Classification
    level: int
    parent: str | None
    documents: int
    retired: bool
    children: list[Entry] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.item.minor or self.item.middle or self.item.major

    @property
    def heading(self) -> bool:
        return bool(self.children)

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]


def _parent_key(names: tuple[str, str | None, str | None]) -> tuple[str, str | None] | None:
    major, middle, minor = names
    if minor:
        return (major, middle)
    if middle:
        return (major, None)
    return None


def tree() -> list[Entry]:
    """The table as a tree of 大分類 with their 中分類 and 小分類, ordered by code; each entry knows
    its documents count and whether it is retired.  An entry whose parent row is missing (possible in
    a table loaded before this check existed) is shown at the top level."""
    items = list(db.session().execute(select(Classification).order_by(Classification.code)).scalars())
    retired = retired_codes()
    counts = usage()
    heads: dict[tuple[str, str | None], Entry] = {}
    entries: list[Entry] = []
    for item in items:
        level = 3 if item.minor else 2 if item.middle else 1
        entry = Entry(item, level, None, counts.get(item.id, 0), item.code in retired)
        entries.append(entry)
        if level < 3:
            heads.setdefault((item.major, item.middle), entry)
    roots: list[Entry] = []
    for entry in entries:
        key = _parent_key((entry.item.major, entry.item.middle, entry.item.minor))
        parent = heads.get(key) if key else None
        if parent is not None and parent is not entry:
            entry.parent = parent.item.code
            parent.children.append(entry)
        else:
            roots.append(entry)
    return roots


def flat(entries: list[Entry]) -> list[Entry]:
    """The tree in reading order (each entry followed by its children)."""
    out: list[Entry] = []
    for entry in entries:
        out.append(entry)
        out.extend(flat(entry.children))
    return out


def find(code: str) -> Entry:
    """The entry ``code`` (404 when there is none)."""
    for entry in flat(tree()):
        if entry.item.code == code:
            return entry
    raise ClassificationError("その文書分類は見つかりません。", "not_found", status=404)


def headings() -> list[Entry]:
    """The 大分類 and 中分類 in use (not retired): the parents a new entry can be added under."""
    return [e for e in flat(tree()) if e.level < 3 and not e.retired]


# --- one entry at a time -----------------------------------------------------------------------


def _snapshot(item: Classification) -> dict[str, Any]:
    return {
        "major": item.major,
        "middle": item.middle,
        "minor": item.minor,
        "retention_years": item.default_retention_years
        if item.default_retention_years is not None
        else "永年",
    }


def _clean_name(value: str, label: str = "名前") -> str:
    try:
        name = classification_csv._name(value or "", label, 0)  # noqa: SLF001 - the file's own rule
    except CsvProblem as error:
        raise ClassificationError(error.message.removeprefix("0行目: "), field="name") from None
    if not name:
        raise ClassificationError("名前を入力してください。", field="name")
    return name


def _retention(value: Any) -> int | None:
    try:
        return classification_csv.retention_value(None if value is None else str(value))
    except CsvProblem as error:
        raise ClassificationError(error.message, field="retention_years") from None


@db.writes
def add(
    actor: User | None, *, parent: str | None, code: str, name: str, retention_years: Any
) -> Classification:
    """Add a 大分類 (no parent), a 中分類 (under a 大分類) or a 小分類 (under a 中分類)."""
    require_records(actor)
    try:
        code = classification_csv.parse_code(code or "")
    except CsvProblem as error:
        raise ClassificationError(error.message, field="code") from None
    name = _clean_name(name)
    retention = _retention(retention_years)
    session = db.session()
    if session.execute(select(Classification.id).where(Classification.code == code)).first():
        raise ClassificationError(f"コード「{code}」はすでに使われています。", "duplicate_code", field="code")
    if parent:
        head = session.execute(
            select(Classification).where(Classification.code == parent)
        ).scalar_one_or_none()
        if head is None or head.minor:
            raise ClassificationError("上位の分類が見つかりません。", field="parent")
        if head.code in retired_codes():
            raise ClassificationError("廃止した分類の下には追加できません。", field="parent")
        names = (head.major, name, None) if not head.middle else (head.major, head.middle, name)
    else:
        names = (name, None, None)
    _refuse_same_names(names)
    item = Classification(
        code=code, major=names[0], middle=names[1], minor=names[2], default_retention_years=retention
    )
    session.add(item)
    session.flush()
    audit.record(
        "classification.create",
        actor=_actor(actor),
        target=_target(code),
        detail={"before": None, "after": _snapshot(item)},
    )
    return item


def _refuse_same_names(names: tuple[str, str | None, str | None], keep: int | None = None) -> None:
    major, middle, minor = names
    query = select(Classification.id).where(
        Classification.major == major,
        Classification.middle.is_(None) if middle is None else Classification.middle == middle,
        Classification.minor.is_(None) if minor is None else Classification.minor == minor,
    )
    if keep is not None:
        query = query.where(Classification.id != keep)
    if db.session().execute(query).first():
        label = " › ".join(p for p in names if p)
        raise ClassificationError(
            f"「{label}」はすでにあります。別の名前にしてください。", "duplicate_name", field="name"
        )


@db.writes
def update(actor: User | None, code: str, *, name: str, retention_years: Any) -> Classification:
    """Rename an entry (in every row under it too) and set its default 保存年限."""
    require_records(actor)
    session = db.session()
    item = _locked(code)
    name = _clean_name(name)
    retention = _retention(retention_years)
    before = _snapshot(item)
    level = 3 if item.minor else 2 if item.middle else 1
    if level == 3:
        new = (item.major, item.middle, name)
    elif level == 2:
        new = (item.major, name, None)
    else:
        new = (name, None, None)
    if new != (item.major, item.middle, item.minor):
        _refuse_same_names(new, keep=item.id)
        if level == 1:
            under = select(Classification).where(Classification.major == item.major)
        elif level == 2:
            under = select(Classification).where(
                Classification.major == item.major, Classification.middle == item.middle
            )
        else:
            under = select(Classification).where(Classification.id == item.id)
        for row in session.execute(under).scalars():
            if level == 1:
                row.major = name
            elif level == 2:
                row.middle = name
            else:
                row.minor = name
    item.default_retention_years = retention
    after = _snapshot(item)
    if after != before:
        audit.record(
            "classification.update",
            actor=_actor(actor),
            target=_target(code),
            detail={"before": before, "after": after},
        )
    return item


def _locked(code: str) -> Classification:
    item = (
        db.session()
        .execute(select(Classification).where(Classification.code == code).with_for_update())
        .scalar_one_or_none()
    )
    if item is None:
        raise ClassificationError("その文書分類は見つかりません。", "not_found", status=404)
    return item


@db.writes
def retire(actor: User | None, code: str) -> str:
    """Remove an entry: deleted when nothing uses it, retired (廃止) when documents or retired entries
    under it still point at it; refused while an entry under it is in use.  Returns "deleted" or
    "retired"."""
    require_records(actor)
    _locked(code)
    entry = find(code)
    if entry.retired:
        raise ClassificationError("この分類はすでに廃止されています。", "already_retired", status=409)
    active = [c for c in entry.children if not c.retired]
    if active:
        names = "・".join(c.name for c in active[:3]) + ("ほか" if len(active) > 3 else "")
        raise ClassificationError(
            f"この分類の下に使用中の分類（{names}）があります。先にそれらを廃止してください。",
            "has_children",
            status=409,
        )
    return _remove(actor, entry.item, in_use=bool(entry.documents or entry.children))


def _remove(actor: User | None, item: Classification, *, in_use: bool) -> str:
    before = _snapshot(item)
    if in_use:
        item.retired_at = utcnow()
        audit.record(
            RETIRE,
            actor=_actor(actor),
            target=_target(item.code),
            detail={"before": {**before, "state": "使用中"}, "after": {**before, "state": "廃止"}},
        )
        return "retired"
    db.session().execute(delete(Classification).where(Classification.id == item.id))
    audit.record(
        DELETE, actor=_actor(actor), target=_target(item.code), detail={"before": before, "after": None}
    )
    return "deleted"


@db.writes
def restore(actor: User | None, code: str) -> Classification:
    """Offer a retired entry again (its parent must be in use)."""
    require_records(actor)
    item = _locked(code)
    entry = find(code)
    if not entry.retired:
        raise ClassificationError("この分類は廃止されていません。", "not_retired", status=409)
    if entry.parent and is_retired(entry.parent):
        raise ClassificationError(
            "上位の分類が廃止されています。先に上位の分類を使用中に戻してください。",
            "parent_retired",
            status=409,
        )
    snap = _snapshot(item)
    item.retired_at = None
    audit.record(
        RESTORE,
        actor=_actor(actor),
        target=_target(code),
        detail={"before": {**snap, "state": "廃止"}, "after": {**snap, "state": "使用中"}},
    )
    return item


# --- the whole table: export and import ----------------------------------------------------------


def export_csv(encoding: str = "utf-8") -> bytes:
    """The table as CSV (UTF-8 with a BOM, or shift_jis), retired entries marked 廃止."""
    retired = retired_codes()
    rows = [(_row(e.item, retired), e.heading) for e in flat(tree())]
    return classification_csv.write(rows, encoding)


@dataclass
class Plan:
    """What an import changes: rows added, changed (before and after), removed (deleted or retired)."""

    added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0
    applied: bool = False

    @property
    def digest(self) -> str:
        """Names this exact change (what the preview showed), so 適用 applies only that."""
        body = json.dumps([self.added, self.changed, self.removed], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:32]

    def as_dict(self) -> dict[str, Any]:
        """The API's answer: counts, and the rows beside them."""
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "removed": len(self.removed),
            "rows": {"added": self.added, "changed": self.changed, "removed": self.removed},
            "total": self.rows,
            "applied": self.applied,
            "digest": self.digest,
        }


def _view(row: Row, heading: bool = False) -> dict[str, Any]:
    return {
        "code": row.code,
        "label": row.label,
        "level": row.level,
        "major": row.major,
        "middle": row.middle,
        "minor": row.minor,
        "retention_years": row.retention if row.retention is not None else "permanent",
        "retention_label": _retention_label(row.retention, heading),
        "state": "廃止" if row.retired else "使用中",
    }


def _retention_label(years: int | None, heading: bool) -> str:
    if years is not None:
        return f"{years}年"
    return "―" if heading else "永年"


def _check_tree(rows: list[Row], others: list[Row]) -> None:
    """Every 中分類 needs its 大分類 and every 小分類 its 中分類 (in the file, or with ``others`` the
    table's rows the file leaves as they are); an entry in use cannot sit under a retired one."""
    heads: dict[tuple[str, str | None], Row] = {}
    for row in [*others, *rows]:
        if row.level < 3:
            heads[(row.major, row.middle)] = row
    for row in rows:
        key = _parent_key(row.names)
        if key is None:
            continue
        parent = heads.get(key)
        if parent is None:
            what = f"中分類「{row.middle}」" if row.level == 3 else f"大分類「{row.major}」"
            raise CsvProblem(f"{LEVEL_NAMES[row.level]}「{row.label}」の{what}の行がありません。", row.line)
        if parent.retired and not row.retired:
            raise CsvProblem(
                f"「{row.label}」は使用中ですが、上位の「{parent.label}」が廃止になっています。", row.line
            )


def plan(data: bytes, *, replace: bool = True) -> Plan:
    """The dry run: what importing ``data`` would change (nothing is written).

    ``replace`` (the pages and the API): the file is the whole table, and an entry it leaves out is
    removed — deleted, or retired when documents or entries kept under it still use it (a retired
    entry still in use stays as it is).  Without it (the command's default) the file only adds and
    updates.  When the file has no 状態 column an entry keeps its state."""
    rows = classification_csv.parse(data)
    if replace and not rows:
        raise CsvProblem("分類の行が1件もありません。表をすべて消すことはできません。")
    session = db.session()
    items = {
        c.code: c for c in session.execute(select(Classification).order_by(Classification.code)).scalars()
    }
    retired = retired_codes()
    counts = usage()
    current = {code: _row(item, retired) for code, item in items.items()}
    stated = [
        r
        if r.retired is not None
        else _with_state(r, current[r.code].retired if r.code in current else False)
        for r in rows
    ]
    in_file = {r.code for r in stated}
    left_out = [r for code, r in current.items() if code not in in_file]
    _check_tree(stated, [] if replace else left_out)
    remaining = {r.names for r in stated}
    if not replace:
        remaining |= {r.names for r in left_out}
    result = Plan(rows=len(rows))
    removed: list[dict[str, Any]] = []
    if replace:
        for old in sorted(left_out, key=lambda r: (-r.level, r.code)):  # 小分類 first: their headings follow
            used = counts.get(items[old.code].id, 0)
            under = old.level < 3 and any(_parent_key(n) == (old.major, old.middle) for n in remaining)
            if used or under:
                remaining.add(old.names)
                if old.retired:
                    continue  # retired and still in use: kept as it is
            view = _view(old, under)
            view["outcome"] = "廃止" if used or under else "削除"
            view["documents"] = used
            removed.append(view)
    heads = {_parent_key(n) for n in remaining}
    for row in stated:
        heading = row.level < 3 and (row.major, row.middle) in heads
        old = current.get(row.code)
        if old is None:
            result.added.append(_view(row, heading))
        elif (old.names, old.retention, bool(old.retired)) != (row.names, row.retention, bool(row.retired)):
            result.changed.append({**_view(row, heading), "before": _view(old, heading)})
    result.removed = sorted(removed, key=lambda v: v["code"])
    return result


def _with_state(row: Row, retired: bool | None) -> Row:
    return Row(row.code, row.major, row.middle, row.minor, row.retention, bool(retired), row.line)


@db.writes
def apply(actor: User | None, data: bytes, *, replace: bool = True, expected: str | None = None) -> Plan:
    """Import ``data``: all of it or nothing, audited (one ``classification.import`` entry with every
    row's before and after, plus the retire/restore/delete entries that keep each entry's state).
    ``expected``: the digest the preview showed; when the table changed since, nothing is applied (409)."""
    require_records(actor)
    db.session().execute(select(Classification.id).with_for_update()).all()  # one import at a time
    result = plan(data, replace=replace)
    if expected is not None and expected != result.digest:
        raise ClassificationError(
            "確認した後に分類表が変わりました。もう一度プレビューで確認してください。",
            "stale_preview",
            status=409,
        )
    session = db.session()
    items = {c.code: c for c in session.execute(select(Classification)).scalars()}
    for view in [*result.added, *result.changed]:
        item = items.get(view["code"])
        if item is None:
            item = Classification(code=view["code"], major=view["major"])
            session.add(item)
        before_state = view.get("before", {}).get("state")
        item.major, item.middle, item.minor = view["major"], view["middle"], view["minor"]
        item.default_retention_years = (
            None if view["retention_years"] == "permanent" else view["retention_years"]
        )
        if view["state"] == "廃止" and item.retired_at is None:
            item.retired_at = utcnow()
        elif view["state"] != "廃止":
            item.retired_at = None
        if before_state and before_state != view["state"]:
            action = RETIRE if view["state"] == "廃止" else RESTORE
            audit.record(
                action,
                actor=_actor(actor),
                target=_target(view["code"]),
                detail={"before": {"state": before_state}, "after": {"state": view["state"]}, "by": "import"},
            )
        elif before_state is None and view["state"] == "廃止":
            audit.record(
                RETIRE,
                actor=_actor(actor),
                target=_target(view["code"]),
                detail={"before": None, "after": {"state": "廃止"}, "by": "import"},
            )
    session.flush()
    for view in result.removed:
        _remove(actor, items[view["code"]], in_use=view["outcome"] == "廃止")
    session.flush()
    result.applied = True
    audit.record(
        "classification.import",
        actor=_actor(actor),
        target="classifications",
        detail={
            "rows": result.rows,
            "added": result.added,
            "changed": [
                {"code": v["code"], "before": v["before"], "after": {k: v[k] for k in v if k != "before"}}
                for v in result.changed
            ],
            "removed": result.removed,
        },
    )
    return result
