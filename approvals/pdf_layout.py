"""Drawing helpers for the 起案用紙 (approvals/pdf.py): the Japanese font, the 決裁欄 and the page frame.

Nothing here knows about requests or the database; pdf.py hands in plain values (a :class:`StampBox` per
box of the 決裁欄).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.lib.colors import Color, HexColor
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

from approvals.seal import SealImprint, draw_seal

log = logging.getLogger(__name__)

INK = HexColor("#222222")
RULE = HexColor("#555555")
BAND = HexColor("#eeeeee")
MUTED = HexColor("#666666")
WATERMARK = Color(0.85, 0.2, 0.2, alpha=0.12)
CID_FALLBACK = "HeiseiKakuGo-W5"

# TrueType (glyf) fonts only: reportlab cannot embed CFF-flavoured OpenType such as Noto Sans CJK .otf/.ttc,
# so those are tried last and skipped if reportlab refuses them.
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-mincho.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansJP-Regular.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


@dataclass(frozen=True)
class StampBox:
    """One box of the 決裁欄: the role above, the seal (None until stamped) and an optional mark.

    mark is one of 代決, 後閲, 引上げ, 省略, 後閲済 and is printed at the foot of the box; a box with a
    mark but no imprint (a skipped or taken-over step) gets a diagonal stroke instead of a seal.
    """

    role_label: str
    imprint: SealImprint | None = None
    mark: str | None = None


@dataclass(frozen=True)
class FontChoice:
    """The font the record is set in: its reportlab name, its file (None for the CID fallback)."""

    name: str
    path: str | None

    @property
    def embedded(self) -> bool:
        """Return True when the font is a TrueType subset embedded in the PDF."""
        return self.path is not None


@functools.lru_cache(maxsize=8)
def _register_ttf(path: str) -> str:
    """Register a TrueType font once per process and return its reportlab name; raises TTFError/OSError.

    Parsing a 4 MB CJK font takes a noticeable moment, hence the cache.
    """
    name = f"WS-{Path(path).stem}"
    pdfmetrics.registerFont(TTFont(name, path))
    return name


def resolve_font(font_path: str | None = None) -> FontChoice:
    """Return the font to use: font_path if given (errors raise), else the first system font that loads.

    Falls back to the non-embedded CID font HeiseiKakuGo-W5, with a warning, when no TrueType font works.
    """
    if font_path:
        return FontChoice(_register_ttf(str(font_path)), str(font_path))
    for candidate in FONT_CANDIDATES:
        if not Path(candidate).is_file():
            continue
        try:
            return FontChoice(_register_ttf(candidate), candidate)
        except (TTFError, OSError) as exc:
            log.info("skipping font %s: %s", candidate, exc)
    log.warning("no Japanese TrueType font found; using the non-embedded CID font %s", CID_FALLBACK)
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return FontChoice(CID_FALLBACK, None)


def fit_font_size(text: str, font: str, width: float, size: float, minimum: float = 5.0) -> float:
    """Return the largest size ≤ size (steps of 0.25 pt, not below minimum) at which text fits width."""
    while size > minimum and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.25
    return size


class StampGrid(Flowable):
    """The 決裁欄: rows of equal boxes, a row label cell on the left (決裁 / 合議), a stamp in each box.

    Each box has a small top band with the role (係長, 課長 …) and below it the 日付印, or a diagonal
    stroke with the mark for a step that was skipped (省略) or taken over (引上げ).
    """

    LABEL_WIDTH = 18.0
    BAND_HEIGHT = 13.0
    MAX_BOX = 66.0
    MIN_BOX = 48.0

    def __init__(self, rows: Sequence[tuple[str, Sequence[StampBox]]], font: str, width: float) -> None:
        super().__init__()
        self.rows = [(label, list(boxes)) for label, boxes in rows if boxes]
        self.font = font
        self.avail = width
        per_row = max(1, math.floor((width - self.LABEL_WIDTH) / self.MIN_BOX))
        widest = max((len(boxes) for _, boxes in self.rows), default=1)
        self.per_row = min(widest, per_row)
        self.box = min(self.MAX_BOX, (width - self.LABEL_WIDTH) / self.per_row)
        # A row with more boxes than fit the page width continues on a second line.
        self.lines = [
            (label if i == 0 else "", boxes[i : i + self.per_row])
            for label, boxes in self.rows
            for i in range(0, len(boxes), self.per_row)
        ]

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        """Return the grid's size: as wide as its boxes, one box height (band + stamp) per line."""
        self.width = self.LABEL_WIDTH + self.per_row * self.box
        self.height = len(self.lines) * (self.BAND_HEIGHT + self.box)
        return self.width, self.height

    def draw(self) -> None:
        """Draw every line of boxes from the top down."""
        line_height = self.BAND_HEIGHT + self.box
        for index, (label, boxes) in enumerate(self.lines):
            y = self.height - (index + 1) * line_height
            self._draw_label(label, y, line_height)
            for col, box in enumerate(boxes):
                self._draw_box(box, self.LABEL_WIDTH + col * self.box, y)

    def _draw_label(self, label: str, y: float, height: float) -> None:
        """Draw the row label written vertically, one character under another, in a grey cell."""
        c = self.canv
        c.setFillColor(BAND)
        c.setStrokeColor(RULE)
        c.setLineWidth(0.6)
        c.rect(0, y, self.LABEL_WIDTH, height, stroke=1, fill=1)
        c.setFillColor(INK)
        size = min(9.0, (height - 8) / max(len(label), 1))
        c.setFont(self.font, size)
        top = y + height / 2 + len(label) * size / 2
        for i, ch in enumerate(label):
            c.drawCentredString(self.LABEL_WIDTH / 2, top - (i + 1) * size + size * 0.12, ch)

    def _draw_box(self, box: StampBox, x: float, y: float) -> None:
        """Draw one box: role band on top, then the seal or the skipped-step marking."""
        c = self.canv
        c.setStrokeColor(RULE)
        c.setLineWidth(0.6)
        c.setFillColor(BAND)
        c.rect(x, y + self.box, self.box, self.BAND_HEIGHT, stroke=1, fill=1)
        c.rect(x, y, self.box, self.box, stroke=1, fill=0)
        c.setFillColor(INK)
        size = fit_font_size(box.role_label, self.font, self.box - 4, 7.5, 4.5)
        c.setFont(self.font, size)
        c.drawCentredString(
            x + self.box / 2, y + self.box + (self.BAND_HEIGHT - size) / 2 + 1, box.role_label
        )
        caption = 9.0 if box.mark else 0.0
        if box.imprint is not None:
            diameter = self.box - 8 - caption
            draw_seal(c, x + (self.box - diameter) / 2, y + 4 + caption, diameter, box.imprint, self.font)
        elif box.mark:
            c.setStrokeColor(MUTED)
            c.line(x + 4, y + 4, x + self.box - 4, y + self.box - 4)
        if box.mark:
            self._draw_caption(box.mark, x, y)

    def _draw_caption(self, mark: str, x: float, y: float) -> None:
        """Draw the mark (代決, 後閲, 引上げ, 省略 …) small at the foot of the box, on a white ground."""
        c = self.canv
        size = fit_font_size(mark, self.font, self.box - 6, 7.0, 4.5)
        text_width = pdfmetrics.stringWidth(mark, self.font, size)
        c.setFillColor(HexColor("#ffffff"))
        c.rect(x + (self.box - text_width) / 2 - 2, y + 2, text_width + 4, size + 2, stroke=0, fill=1)
        c.setFillColor(INK)
        c.setFont(self.font, size)
        c.drawCentredString(x + self.box / 2, y + 3.2, mark)


class _RecordInfo(pdfdoc.PDFInfo):
    """The document information dictionary with the workspace's own keys added (e.g. /WorkspaceRequestId)."""

    def __init__(self, extra: dict[str, str]) -> None:
        super().__init__()
        self.extra = extra

    def format(self, document: Any) -> bytes:
        """Return the serialised dictionary: reportlab's standard keys plus the extra ones."""
        info = pdfdoc.PDFInfo.format(self, document)
        extra = pdfdoc.PDFDictionary({k: pdfdoc.PDFString(v) for k, v in self.extra.items()}).format(document)
        # Splice the two dictionaries: drop info's closing ">>" and extra's opening "<<".
        return info[: info.rindex(b">>")] + extra[extra.index(b"<<") + 2 :]


def record_canvas(extra_info: dict[str, str], footer: Any) -> type[Canvas]:
    """Return a Canvas class that writes extra_info into /Info and calls footer(canvas, page, total).

    Pages are held back until save() so that every footer can say 「n / 総ページ数」.
    """

    class RecordCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._doc.info = _RecordInfo(extra_info)
            self._pending_pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pending_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pending_pages)
            for number, state in enumerate(self._pending_pages, start=1):
                self.__dict__.update(state)
                footer(self, number, total)
                Canvas.showPage(self)
            Canvas.save(self)

    return RecordCanvas


def draw_watermark(canvas: Canvas, text: str, font: str, page_width: float, page_height: float) -> None:
    """Draw text large, light and diagonal across the page centre (beneath the content drawn later)."""
    canvas.saveState()
    canvas.setFillColor(WATERMARK)
    size = fit_font_size(text, font, page_width * 0.9, 120.0, 40.0)
    canvas.setFont(font, size)
    canvas.translate(page_width / 2, page_height / 2)
    canvas.rotate(40)
    canvas.drawCentredString(0, -size / 3, text)
    canvas.restoreState()
