"""The 文書分類 table as a CSV file: reading one (UTF-8 or Shift_JIS) and writing one (for Excel).

Pure: no database.  ``parse`` turns the bytes into ``Row``s (every problem is a Japanese message that
names the line, raised as ``CsvProblem``); ``write`` turns rows into bytes.  The rules that need the
table as it stands (what is added, changed, removed; whether a 小分類's 中分類 exists) are in
``docsearch.classifications``.

The columns (a header row is required; Japanese or English names, in any order):

==========  ===============  =====================================================================
日本語      English          value
==========  ===============  =====================================================================
コード      code             the entry's code, 半角 letters, digits, ``-``, ``_``, ``.`` (up to 32)
大分類      major            the 大分類's name (required)
中分類      middle           the 中分類's name (empty for a 大分類)
小分類      minor            the 小分類's name (empty for a 大分類 or 中分類)
保存年限    retention_years  1, 3, 5, 10, 30 (``年`` may follow) or 永年; empty is 永年 (or, for a
                             heading, no 保存年限 of its own)
状態        status           optional: empty or 使用中 (in use), 廃止 (retired)
==========  ===============  =====================================================================
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from docsearch.errors import DocumentError
from docsearch.registry import _clean_line, parse_retention

#: The header this module writes, and the names it reads for each column.
HEADER = ("コード", "大分類", "中分類", "小分類", "保存年限", "状態")
COLUMNS = {
    "code": ("code", "コード", "分類コード"),
    "major": ("major", "大分類"),
    "middle": ("middle", "中分類"),
    "minor": ("minor", "小分類"),
    "retention": ("retention_years", "保存年限", "retention"),
    "status": ("status", "状態"),
}
RETIRED_WORDS = {"廃止", "retired"}
ACTIVE_WORDS = {"", "使用中", "active"}
ENCODINGS = {"utf-8": "utf-8-sig", "shift_jis": "cp932"}  # cp932: Shift_JIS as Windows and Excel write it
CODE_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,31}")
RESERVED_CODES = {"new", "import", "export.csv"}
NAME_MAX = 100
MAX_BYTES = 2 * 1024 * 1024


class CsvProblem(DocumentError):
    """A file that cannot be read as the 文書分類 table (422; the message names the line)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(422, f"{line}行目: {message}" if line else message, "invalid_csv")
        self.line = line


@dataclass(frozen=True)
class Row:
    """One entry as a file states it; ``retired`` is None when the file has no 状態 column."""

    code: str
    major: str
    middle: str | None
    minor: str | None
    retention: int | None
    retired: bool | None = None
    line: int = 0

    @property
    def level(self) -> int:
        """1 大分類, 2 中分類, 3 小分類."""
        return 3 if self.minor else 2 if self.middle else 1

    @property
    def names(self) -> tuple[str, str | None, str | None]:
        return (self.major, self.middle, self.minor)

    @property
    def label(self) -> str:
        return " › ".join(p for p in self.names if p)


def decode(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes) or else Shift_JIS (cp932); refuse anything else."""
    if len(data) > MAX_BYTES:
        raise CsvProblem("ファイルが大きすぎます（2MBまで）。")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError:
        raise CsvProblem(
            "文字コードを判別できません。UTF-8 か Shift_JIS で保存したCSVを選んでください。"
        ) from None


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = raw.strip().lower()
        if not name:
            continue  # Excel's trailing empty columns
        key = next((k for k, names in COLUMNS.items() if name in {n.lower() for n in names}), None)
        if key is None:
            raise CsvProblem(f"列「{raw.strip()[:40]}」は使えません。見出しは {'・'.join(HEADER)} です。", 1)
        if key in found:
            raise CsvProblem(f"列「{raw.strip()[:40]}」が2回あります。", 1)
        found[key] = index
    for key, label in (("code", "コード"), ("major", "大分類")):
        if key not in found:
            raise CsvProblem(f"見出し行に「{label}」の列がありません（1行目は見出しにしてください）。", 1)
    return found


def _name(value: str, label: str, line: int) -> str | None:
    try:
        text = " ".join(_clean_line(value, label).split())
    except DocumentError as error:
        raise CsvProblem(error.message, line) from None
    if len(text) > NAME_MAX:
        raise CsvProblem(f"{label}は{NAME_MAX}文字以内にしてください。", line)
    return text or None


def parse_code(value: str, line: int | None = None) -> str:
    """Return a valid code or raise (the one rule for a code: the form, the API, the file)."""
    code = value.strip()
    if not code:
        raise CsvProblem("コードを入力してください。", line)
    if code in RESERVED_CODES:  # the 管理 pages' own addresses (/admin/classifications/new …)
        raise CsvProblem(f"「{code}」はコードに使えません。", line)
    if not CODE_PATTERN.fullmatch(code):
        raise CsvProblem(
            f"コード「{code[:40]}」は使えません。半角の英数字と - _ . で32文字以内にしてください。", line
        )
    return code


def retention_value(value: str | None, line: int | None = None) -> int | None:
    """Return the 保存年限 (years, None for 永年) or raise naming the value."""
    try:
        return parse_retention(value)
    except DocumentError:
        shown = (value or "").strip()[:20]
        raise CsvProblem(
            f"保存年限「{shown}」は使えません。1・3・5・10・30（年）または永年にしてください。", line
        ) from None


def parse(data: bytes) -> list[Row]:
    """Read the file into rows, checking each row and the file as a whole (codes and names unique)."""
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[Row] = []
    columns: dict[str, int] | None = None
    by_code: dict[str, int] = {}
    by_names: dict[tuple[str, str | None, str | None], int] = {}
    start = 1  # the line a record starts on (a quoted value may span lines)
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not any(f.strip() for f in fields):
                continue
            if columns is None:
                columns = _columns(fields)
                width = max(columns.values()) + 1
                continue
            if any(f.strip() for f in fields[width:]):
                raise CsvProblem(
                    '列の数が見出し行より多くなっています（値に , があるときは "" で囲みます）。', line
                )

            def cell(key: str, fields: list[str] = fields, columns: dict[str, int] = columns) -> str:
                index = columns.get(key)
                return fields[index] if index is not None and index < len(fields) else ""

            code = parse_code(cell("code"), line)
            major = _name(cell("major"), "大分類", line)
            middle = _name(cell("middle"), "中分類", line)
            minor = _name(cell("minor"), "小分類", line)
            if major is None:
                raise CsvProblem("大分類の名前がありません。", line)
            if minor and not middle:
                raise CsvProblem("小分類には中分類の名前も必要です。", line)
            retention = retention_value(cell("retention"), line)
            retired = None
            if "status" in columns:
                status = cell("status").strip()
                if status in RETIRED_WORDS:
                    retired = True
                elif status in ACTIVE_WORDS:
                    retired = False
                else:
                    raise CsvProblem(
                        f"状態「{status[:20]}」は使えません。空欄・使用中・廃止のどれかにしてください。", line
                    )
            row = Row(code, major, middle, minor, retention, retired, line)
            if code in by_code:
                raise CsvProblem(f"コード「{code}」が{by_code[code]}行目と重複しています。", line)
            if row.names in by_names:
                raise CsvProblem(f"分類「{row.label}」が{by_names[row.names]}行目と重複しています。", line)
            by_code[code] = line
            by_names[row.names] = line
            rows.append(row)
    except csv.Error as error:
        raise CsvProblem(f"CSVの形式が正しくありません（{_csv_reason(str(error))}）。", start) from None
    if columns is None:
        raise CsvProblem("ファイルが空です。見出し行と分類の行があるCSVを選んでください。")
    return rows


def _csv_reason(message: str) -> str:
    if "EOF" in message or "end of data" in message or "newline inside string" in message:
        return '" で始めた値が閉じられていません'
    if "expected" in message and "after" in message:
        return '" の後に区切りの , がありません'
    return "引用符の使い方を確認してください"


def retention_cell(years: int | None, *, heading: bool) -> str:
    """What the file says for a 保存年限: the number, 永年, or empty for a heading without one."""
    if years is not None:
        return str(years)
    return "" if heading else "永年"


def write(rows: list[tuple[Row, bool]], encoding: str = "utf-8") -> bytes:
    """The table as CSV bytes: UTF-8 with a BOM (Excel opens it as UTF-8) or Shift_JIS (cp932).

    ``rows`` are (row, heading) pairs; a heading is a 大分類/中分類 with entries under it.  A name
    Shift_JIS cannot hold is refused (422) with the row it is in, rather than written as ``?``.
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row, heading in rows:
        writer.writerow(
            [
                row.code,
                row.major,
                row.middle or "",
                row.minor or "",
                retention_cell(row.retention, heading=heading),
                "廃止" if row.retired else "",
            ]
        )
    text = out.getvalue()
    codec = ENCODINGS.get(encoding)
    if codec is None:
        raise DocumentError(422, "文字コードは utf-8 か shift_jis を指定してください。", "invalid_encoding")
    if codec == "cp932":
        for row, _heading in rows:
            for name in row.names:
                for char in name or "":
                    try:
                        char.encode("cp932")
                    except UnicodeEncodeError:
                        raise DocumentError(
                            422,
                            f"分類「{row.label}」の「{char}」は Shift_JIS で表せません。"
                            "UTF-8 で書き出してください。",
                            "not_shift_jis",
                        ) from None
    return text.encode(codec)
