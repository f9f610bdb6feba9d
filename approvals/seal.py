"""The 日付印 (date seal): one geometry, drawn as inline SVG in the browser and with reportlab in the PDF.

A seal is a red circle cut by two horizontal lines into three bands: the department on top, the short
和暦 date (8.11.26) in the middle and the family name at the bottom. An optional small mark (代, 後閲,
引上, 省略) sits in a badge at the top-right corner, outside the circle, as a hand stamp would.

All positions are computed once by :func:`seal_layout` in unit coordinates (the seal's bounding square
is 1 × 1, origin at the top-left, y growing downwards as in SVG); the two renderers only scale them,
so the browser and the PDF cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import unicodedata
from dataclasses import dataclass, replace
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from workspace.calendar import wareki_short

SEAL_RED = "#d0312d"
SVG_FONT_FAMILY = "'IPAexGothic', 'IPAexゴシック', 'Noto Sans CJK JP', sans-serif"

# Unit geometry. The radius leaves room for the stroke inside the bounding square.
_CENTER = 0.5
_RADIUS = 0.46
_STROKE = 0.035
_BAND_HALF = 0.11  # half height of the middle (date) band
_PAD = 0.035  # clearance between text and the circle or a line
_ASCENT = 0.88  # share of the font size above the baseline (IPAex and Noto are close to this)
_LEADING = 1.08
_MAX_NAME_SIZE = 0.26
_MAX_DATE_SIZE = 0.15
_MIN_ONE_LINE_SIZE = 0.13  # below this a department name is split over two lines instead
_MIN_SIZE = 0.06
# Department names split best before these endings: 教育委員会 / 事務局.
_SPLIT_SUFFIXES = ("事務局", "委員会", "センター", "推進室", "支所", "課", "室", "局")


@dataclass(frozen=True)
class SealImprint:
    """What a seal says: the department, the date, the family name and an optional small mark."""

    department: str
    date: dt.date
    family_name: str
    mark: str | None = None


@dataclass(frozen=True)
class SealText:
    """One line of text, centred on x, in unit coordinates (size = font size)."""

    text: str
    x: float
    baseline: float
    size: float


@dataclass(frozen=True)
class SealMark:
    """The corner badge: a white box with a red frame and the mark's text."""

    text: SealText
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class SealLayout:
    """Everything a renderer needs, in unit coordinates (bounding square 1 × 1, y downwards)."""

    cx: float
    cy: float
    radius: float
    stroke: float
    lines: tuple[tuple[float, float, float], ...]  # (x1, x2, y) of each dividing line
    texts: tuple[SealText, ...]
    mark: SealMark | None


def text_width(text: str) -> float:
    """Return the estimated advance width of text in ems: wide (CJK) characters 1, others 0.6.

    An estimate rather than a font metric keeps the layout identical in the PDF and the browser;
    0.6 is a little wider than the digits of IPAex and Noto, so the estimate errs on the safe side.
    """
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.6 for ch in text)


def _chord_half(dy: float) -> float:
    """Return half the width of the circle's inner edge at vertical distance dy from the centre."""
    inner = _RADIUS - _STROKE / 2
    return math.sqrt(max(inner * inner - dy * dy, 0.0))


def _fits(lines: tuple[str, ...], size: float, top: float) -> bool:
    """Return True when lines of this size, starting at top, stay inside the circle with padding."""
    for index, line in enumerate(lines):
        line_top = top + index * size * _LEADING
        line_bottom = line_top + size
        dy = max(abs(line_top - _CENTER), abs(line_bottom - _CENTER))
        if text_width(line) * size > 2 * (_chord_half(dy) - _PAD):
            return False
    return True


def _block(
    lines: tuple[str, ...], top: float, bottom: float, anchor: str, max_size: float = _MAX_NAME_SIZE
) -> tuple[SealText, ...]:
    """Return the lines fitted into the band [top, bottom], pushed towards anchor ("top"/"bottom").

    The font size is the largest (in steps of 0.005, at most max_size) that fits the band and the circle.
    """
    size = max_size
    while True:
        height = size + (len(lines) - 1) * size * _LEADING
        block_top = top + _PAD if anchor == "top" else bottom - _PAD - height
        if (height <= bottom - top - 2 * _PAD and _fits(lines, size, block_top)) or size <= _MIN_SIZE:
            break
        size -= 0.005
    return tuple(
        SealText(line, _CENTER, block_top + i * size * _LEADING + size * _ASCENT, size)
        for i, line in enumerate(lines)
    )


def split_department(name: str) -> tuple[str, str]:
    """Return a department name split in two for a second line: 教育委員会事務局 → (教育委員会, 事務局)."""
    for suffix in _SPLIT_SUFFIXES:
        head = name[: -len(suffix)]
        if name.endswith(suffix) and len(head) >= 2 and len(suffix) <= len(head) + 1:
            return head, suffix
    middle = (len(name) + 1) // 2
    return name[:middle], name[middle:]


def _department_texts(department: str, line_y: float) -> tuple[SealText, ...]:
    """Return the department on one line, or on two when one line would be too small to read."""
    top_band = _CENTER - _RADIUS + _STROKE / 2
    one_line = _block((department,), top_band, line_y, "bottom")
    if len(department) <= 3 or one_line[0].size >= _MIN_ONE_LINE_SIZE:
        return one_line
    two_lines = _block(split_department(department), top_band, line_y, "bottom")
    return two_lines if two_lines[0].size > one_line[0].size else one_line


def _mark_badge(mark: str) -> SealMark:
    """Return the corner badge for a mark, right-aligned at the top-right corner of the square."""
    # Small enough to stay clear of the department text below it.
    size = 0.14 if len(mark) == 1 else 0.11
    width = text_width(mark) * size + 0.05
    height = size + 0.04
    x = 1.0 - width
    text = SealText(mark, x + width / 2, 0.02 + size * _ASCENT, size)
    return SealMark(text=text, x=x, y=0.0, width=width, height=height)


@functools.lru_cache(maxsize=512)
def seal_layout(imprint: SealImprint) -> SealLayout:
    """Return the seal's geometry and fitted texts for an imprint (pure; cached because stamps repeat)."""
    upper, lower = _CENTER - _BAND_HALF, _CENTER + _BAND_HALF
    half = _chord_half(_BAND_HALF)
    lines = ((_CENTER - half, _CENTER + half, upper), (_CENTER - half, _CENTER + half, lower))
    texts: list[SealText] = []
    if imprint.department:
        texts.extend(_department_texts(imprint.department, upper))
    # The date is kept a little smaller than the names, as on a rubber 日付印.
    middle = _block((wareki_short(imprint.date),), upper, lower, "top", _MAX_DATE_SIZE)
    texts.extend(replace(t, baseline=_CENTER + t.size * (_ASCENT - 0.5)) for t in middle)
    if imprint.family_name:
        texts.extend(_block((imprint.family_name,), lower, _CENTER + _RADIUS, "top"))
    mark = _mark_badge(imprint.mark) if imprint.mark else None
    return SealLayout(_CENTER, _CENTER, _RADIUS, _STROKE, lines, tuple(texts), mark)


def seal_label(imprint: SealImprint) -> str:
    """Return the spoken description of a seal: 「総務課 8.11.26 山田 の日付印」 (with the mark if any)."""
    label = f"{imprint.department} {wareki_short(imprint.date)} {imprint.family_name} の日付印"
    return f"{label}（{imprint.mark}）" if imprint.mark else label


def _fmt(value: float, size: float) -> str:
    """Return a unit value scaled to pixels, short enough for compact SVG."""
    return f"{value * size:.2f}".rstrip("0").rstrip(".")


def _svg_text(item: SealText, size: float) -> str:
    """Return one <text> element; the text is XML-escaped so names can never become markup."""
    return (
        f'<text x="{_fmt(item.x, size)}" y="{_fmt(item.baseline, size)}" '
        f'font-size="{_fmt(item.size, size)}" text-anchor="middle">{escape(item.text)}</text>'
    )


def seal_svg(imprint: SealImprint, size: int = 72) -> str:
    """Return the seal as an inline SVG string of size × size pixels, with role="img" and an aria-label."""
    layout = seal_layout(imprint)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" role="img" aria-label={quoteattr(seal_label(imprint))} '
        f'class="seal" fill="{SEAL_RED}" font-family="{SVG_FONT_FAMILY}">',
        f'<circle cx="{_fmt(layout.cx, size)}" cy="{_fmt(layout.cy, size)}" r="{_fmt(layout.radius, size)}" '
        f'fill="none" stroke="{SEAL_RED}" stroke-width="{_fmt(layout.stroke, size)}"/>',
    ]
    for x1, x2, y in layout.lines:
        parts.append(
            f'<line x1="{_fmt(x1, size)}" y1="{_fmt(y, size)}" x2="{_fmt(x2, size)}" y2="{_fmt(y, size)}" '
            f'stroke="{SEAL_RED}" stroke-width="{_fmt(layout.stroke * 0.7, size)}"/>'
        )
    parts.extend(_svg_text(item, size) for item in layout.texts)
    if layout.mark:
        m = layout.mark
        parts.append(
            f'<rect x="{_fmt(m.x, size)}" y="{_fmt(m.y, size)}" width="{_fmt(m.width, size)}" '
            f'height="{_fmt(m.height, size)}" fill="#fff" stroke="{SEAL_RED}" '
            f'stroke-width="{_fmt(layout.stroke * 0.6, size)}"/>'
        )
        parts.append(_svg_text(m.text, size))
    parts.append("</svg>")
    return "".join(parts)


def draw_seal(canvas: Any, x: float, y: float, diameter: float, imprint: SealImprint, font_name: str) -> None:
    """Draw the seal on a reportlab canvas; (x, y) is the lower-left corner of its bounding square.

    The canvas state (colours, line width, font) is saved and restored, so callers keep theirs.
    """
    layout = seal_layout(imprint)

    def px(u: float) -> float:
        return x + u * diameter

    def py(v: float) -> float:  # unit y grows downwards, PDF y upwards
        return y + (1.0 - v) * diameter

    canvas.saveState()
    canvas.setStrokeColor(SEAL_RED)
    canvas.setFillColor(SEAL_RED)
    canvas.setLineWidth(layout.stroke * diameter)
    canvas.circle(px(layout.cx), py(layout.cy), layout.radius * diameter, stroke=1, fill=0)
    canvas.setLineWidth(layout.stroke * 0.7 * diameter)
    for x1, x2, line_y in layout.lines:
        canvas.line(px(x1), py(line_y), px(x2), py(line_y))
    for item in layout.texts:
        canvas.setFont(font_name, item.size * diameter)
        canvas.drawCentredString(px(item.x), py(item.baseline), item.text)
    if layout.mark:
        _draw_mark(canvas, layout.mark, px, py, diameter, font_name, layout.stroke)
    canvas.restoreState()


def _draw_mark(
    canvas: Any, mark: SealMark, px: Any, py: Any, diameter: float, font: str, stroke: float
) -> None:
    """Draw the corner badge: white box over whatever is below, red frame, red text."""
    canvas.setFillColor("#ffffff")
    canvas.setLineWidth(stroke * 0.6 * diameter)
    canvas.rect(px(mark.x), py(mark.y + mark.height), mark.width * diameter, mark.height * diameter, 1, 1)
    canvas.setFillColor(SEAL_RED)
    canvas.setFont(font, mark.text.size * diameter)
    canvas.drawCentredString(px(mark.text.x), py(mark.text.baseline), mark.text.text)
