"""The 起案用紙 as a PDF: an A4 record of one approval request, rendered with reportlab from plain data.

No database and no Flask here: the approval service fills a :class:`RecordSheet` and calls
:func:`render_record`. The PDF is set in an embedded Japanese TrueType font (IPAex by default), so its
text can be searched and extracted; /Info carries /WorkspaceRequestId and /WorkspaceDocumentNumber so
that a signed copy can be traced back to its request (see approvals/signing.py).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from approvals.pdf_layout import (
    BAND,
    INK,
    MUTED,
    RULE,
    StampBox,
    StampGrid,
    draw_watermark,
    fit_font_size,
    record_canvas,
    resolve_font,
)
from workspace.calendar import both, to_jst, wareki

PRODUCER = "village-workspace 電子決裁"
INFO_REQUEST_ID = "WorkspaceRequestId"
INFO_DOCUMENT_NUMBER = "WorkspaceDocumentNumber"
MARGIN = 18 * mm
NONE_TEXT = "—"
IDEOGRAPHIC_SPACE = "\u3000"
# Shared by the attachment and history tables: grey header band, thin rules.
_LIST_STYLE = [
    ("FONTSIZE", (0, 0), (-1, -1), 8),
    ("BACKGROUND", (0, 0), (-1, 0), BAND),
    ("GRID", (0, 0), (-1, -1), 0.5, RULE),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
]
_NO_PADDING = {"leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0}


@dataclass(frozen=True)
class AttachmentLine:
    """An attachment as frozen at 起案: its file name, size in bytes and SHA-256 (hex)."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class HistoryLine:
    """One action in the request's history; at must be timezone-aware (shown in JST, +09:00)."""

    at: dt.datetime
    actor: str
    action_label: str
    comment: str | None = None


@dataclass
class RecordSheet:
    """Everything printed on the 起案用紙. retention_years None means 永年 (kept permanently).

    stamp_rows: row 0 is the 回議/決裁 chain, row 1 (optional) the 合議 departments.
    """

    request_id: int
    document_number: str | None
    title: str
    body: str
    drafted_on: dt.date
    decided_on: dt.date | None
    drafter_name: str
    drafter_department: str
    classification: str | None
    retention_years: int | None
    authority_label: str
    amount: int | None
    stamp_rows: list[list[StampBox]] = field(default_factory=list)
    attachments: list[AttachmentLine] = field(default_factory=list)
    history: list[HistoryLine] = field(default_factory=list)
    draft: bool = False
    watermark: str = "未決裁"
    # With times, the header prints 「令和8年12月3日 09:30」; without, the day alone (older callers).
    drafted_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None


@dataclass(frozen=True)
class _Styles:
    """The paragraph styles of one rendering, all in the chosen font."""

    font: str
    title: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    cell: ParagraphStyle
    small: ParagraphStyle


def _styles(font: str) -> _Styles:
    """Return the styles; wordWrap='CJK' lets Japanese lines break between any two characters."""
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=16, textColor=INK, wordWrap="CJK")
    return _Styles(
        font=font,
        title=ParagraphStyle("title", base, fontSize=20, leading=26, alignment=TA_CENTER, spaceAfter=10),
        heading=ParagraphStyle("heading", base, fontSize=11, leading=15),
        body=ParagraphStyle("body", base, fontSize=10.5, leading=18),
        cell=ParagraphStyle("cell", base, fontSize=9, leading=12.5),
        small=ParagraphStyle("small", base, fontSize=8, leading=11),
    )


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    """Return a Paragraph showing text literally: Paragraph parses markup, so <, > and & are escaped."""
    return Paragraph(escape(text), style)


def _table(
    rows: list[list[object]], widths: list[object], font: str, commands: list[Any], **kw: Any
) -> Table:
    """Return a Table whose plain-string cells use the record's font.

    Table's default is Helvetica, which would add a non-embedded font to the PDF even for empty cells.
    """
    table = Table(rows, colWidths=widths, **kw)
    table.setStyle(
        TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("TEXTCOLOR", (0, 0), (-1, -1), INK), *commands])
    )
    return table


def _heading(text: str, s: _Styles) -> Table:
    """Return a section heading: the title over a rule, kept on the same page as what follows."""
    rule = [
        ("LINEBELOW", (0, 0), (-1, -1), 0.8, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 1),
        ("TOPPADDING", (0, 0), (-1, -1), 12),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    table = _table([[_para(text, s.heading)]], ["100%"], s.font, rule, spaceAfter=6)
    table.keepWithNext = True
    return table


def wareki_time(value: dt.datetime) -> str:
    """Return 令和8年12月3日 09:30 (JST), how every time on the record is printed."""
    local = to_jst(value)
    return f"{wareki(local.date())} {local:%H:%M}"


def _amount(amount: int | None) -> str:
    """Return ¥1,234,000 (or a dash when the request has no amount)."""
    return NONE_TEXT if amount is None else f"¥{amount:,}"


def _retention(years: int | None) -> str:
    """Return 5年, or 永年 for a permanent record."""
    return "永年" if years is None else f"{years}年"


def _header(sheet: RecordSheet, s: _Styles, width: float) -> Table:
    """Return the header table: four columns (label, value, label, value), 件名 across the full width."""
    decided = both(sheet.decided_on) if sheet.decided_on else NONE_TEXT
    if sheet.decided_at is not None:
        decided = wareki_time(sheet.decided_at)
    drafted = wareki_time(sheet.drafted_at) if sheet.drafted_at is not None else both(sheet.drafted_on)
    pairs = [
        ("文書番号", sheet.document_number or NONE_TEXT, "決裁区分", sheet.authority_label),
        ("起案日", drafted, "決裁日", decided),
        ("起案者", f"{sheet.drafter_department}　{sheet.drafter_name}", "金額", _amount(sheet.amount)),
        ("文書分類", sheet.classification or NONE_TEXT, "保存年限", _retention(sheet.retention_years)),
    ]
    rows = [[_para(text, s.cell) for text in row] for row in pairs]
    rows.append([_para("件名", s.cell), _para(sheet.title, s.cell), "", ""])
    label = 17 * mm
    value = (width - 2 * label) / 2
    grid = [
        ("GRID", (0, 0), (-1, -1), 0.6, RULE),
        ("BACKGROUND", (0, 0), (0, -1), BAND),
        ("BACKGROUND", (2, 0), (2, -2), BAND),
        ("SPAN", (1, -1), (3, -1)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    return _table(rows, [label, value, label, value], s.font, grid)


def _stamp_grid(sheet: RecordSheet, s: _Styles, width: float) -> list[Flowable]:
    """Return the 決裁欄 heading and grid (決裁 row, then 合議 row), or a note when there are no steps."""
    labels = ("決裁", "合議")
    rows = [(labels[min(i, 1)], boxes) for i, boxes in enumerate(sheet.stamp_rows)]
    if not any(boxes for _, boxes in rows):
        return [_heading("決裁欄", s), _para("（決裁経路なし）", s.cell)]
    return [_heading("決裁欄", s), StampGrid(rows, s.font, width)]


def _body(sheet: RecordSheet, s: _Styles) -> list[Flowable]:
    """Return the body as one Paragraph per line; blank lines become space, long text flows over pages."""
    story: list[Flowable] = [_heading("本文", s)]
    for line in sheet.body.replace("\r\n", "\n").split("\n"):
        story.append(_body_line(line, s.body) if line.strip() else Spacer(1, 8))
    return story


def _body_line(line: str, style: ParagraphStyle) -> Paragraph:
    """Return one body paragraph, keeping its leading full-width spaces as an indent.

    Japanese paragraphs start with 「　」; Paragraph would drop leading whitespace, so it becomes a
    first-line indent of one em per space.
    """
    text = line.replace("\t", IDEOGRAPHIC_SPACE)
    stripped = text.lstrip(IDEOGRAPHIC_SPACE + " ")
    indent = sum(1.0 if ch == IDEOGRAPHIC_SPACE else 0.5 for ch in text[: len(text) - len(stripped)])
    if indent:
        style = ParagraphStyle(f"{style.name}-indent", style, firstLineIndent=indent * style.fontSize)
    return Paragraph(escape(stripped), style)


def _attachments(sheet: RecordSheet, s: _Styles, width: float) -> list[Flowable]:
    """Return the attachment list with sizes and SHA-256 digests (one unbroken line each, for copying)."""
    story: list[Flowable] = [_heading("添付ファイル", s)]
    if not sheet.attachments:
        return [*story, _para("添付ファイルなし", s.cell)]
    digest_width = width * 0.55
    widths = [8 * mm, width - digest_width - 28 * mm, 20 * mm, digest_width]
    digest_size = fit_font_size("0" * 64, s.font, digest_width - 6, 7.5, 5.0)
    rows: list[list[object]] = [["No.", "ファイル名", "サイズ", "SHA-256"]]
    for number, item in enumerate(sheet.attachments, start=1):
        rows.append([str(number), _para(item.name, s.small), f"{item.size:,} B", item.sha256])
    extra = [("FONTSIZE", (3, 1), (3, -1), digest_size), ("ALIGN", (2, 1), (2, -1), "RIGHT")]
    return [*story, _table(rows, widths, s.font, [*_LIST_STYLE, *extra], repeatRows=1)]


def _history(sheet: RecordSheet, s: _Styles, width: float) -> list[Flowable]:
    """Return the history page: every action with its time in 和暦 (JST), actor and comment."""
    story: list[Flowable] = [PageBreak(), _heading("処理履歴", s)]
    if not sheet.history:
        return [*story, _para("処理履歴なし", s.cell)]
    rows: list[list[object]] = [["日時", "処理者", "処理", "コメント"]]
    for line in sheet.history:
        comment = _para(line.comment, s.small) if line.comment else ""
        rows.append(
            [wareki_time(line.at), _para(line.actor, s.small), _para(line.action_label, s.small), comment]
        )
    widths = [44 * mm, 32 * mm, 22 * mm]
    table = _table(rows, [*widths, width - sum(widths)], s.font, _LIST_STYLE, repeatRows=1)
    return [*story, table]


def _story(sheet: RecordSheet, s: _Styles, width: float) -> list[Flowable]:
    """Return the whole document in reading order: title, header, 決裁欄, body, attachments, history."""
    return [
        _para("起案用紙", s.title),
        _header(sheet, s, width),
        Spacer(1, 4),
        *_stamp_grid(sheet, s, width),
        *_body(sheet, s),
        *_attachments(sheet, s, width),
        *_history(sheet, s, width),
    ]


def _footer(sheet: RecordSheet, font: str) -> Callable[..., None]:
    """Return the footer callback: document number (and draft status) left, 「n / N」 right, every page."""
    left = f"起案用紙　{sheet.document_number or '文書番号未定'}　（管理番号 {sheet.request_id}）"
    if sheet.draft:
        # Also in plain text: the diagonal watermark is not extracted as a word by text tools.
        left += f"　【{sheet.watermark}】"

    def draw(canvas: Any, page: int, total: int) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 10 * mm, left)
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, f"{page} / {total}")
        canvas.restoreState()

    return draw


def _info(sheet: RecordSheet) -> dict[str, str]:
    """Return the custom /Info keys that let verification say which request a PDF records."""
    return {INFO_REQUEST_ID: str(sheet.request_id), INFO_DOCUMENT_NUMBER: sheet.document_number or ""}


def render_record(sheet: RecordSheet, *, font_path: str | None = None) -> bytes:
    """Return the 起案用紙 of sheet as PDF bytes (A4, several pages when the body is long).

    font_path selects a TrueType font (errors loading it raise TTFError/OSError); by default the first
    IPAex/IPA/Noto TrueType font on the system is embedded as a subset.
    """
    font = resolve_font(font_path)
    styles = _styles(font.name)
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=sheet.title,
        author=sheet.drafter_name,
        subject=sheet.document_number or "",
        creator=PRODUCER,
        producer=PRODUCER,
        # Otherwise every page names Helvetica, a font that is not embedded.
        initialFontName=font.name,
    )
    # No frame padding: the tables are exactly doc.width wide and must line up with the text.
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", **_NO_PADDING)

    def on_page(canvas: Any, _doc: Any) -> None:
        if sheet.draft:
            draw_watermark(canvas, sheet.watermark, font.name, *A4)

    doc.addPageTemplates([PageTemplate(id="sheet", frames=[frame], onPage=on_page)])
    doc.build(
        _story(sheet, styles, doc.width),
        canvasmaker=record_canvas(_info(sheet), _footer(sheet, font.name)),
    )
    return buffer.getvalue()
