"""Real sample files made in the test run: PDF (reportlab, Japanese font), DOCX, XLSX, CSV, HTML."""

from __future__ import annotations

import io
import subprocess
import zipfile
from functools import cache
from pathlib import Path

FONT_CANDIDATES = ("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",)


@cache
def japanese_font() -> str:
    """Register IPAex Gothic with reportlab once; return its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = next((p for p in FONT_CANDIDATES if Path(p).exists()), None)
    if path is None:
        found = subprocess.run(["fc-list", ":lang=ja", "file"], capture_output=True, text=True, check=False)
        path = found.stdout.split(":", 1)[0].strip()
    pdfmetrics.registerFont(TTFont("IPAexGothic", path))
    return "IPAexGothic"


def pdf_bytes(*lines: str) -> bytes:
    """A real PDF with the lines in a Japanese TrueType font (text extractable)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    pdf.setFont(japanese_font(), 12)
    y = 800
    for line in lines:
        pdf.drawString(50, y, line)
        y -= 20
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def docx_bytes(*paragraphs: str, table: list[list[str]] | None = None) -> bytes:
    """A real DOCX with paragraphs and an optional table."""
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes(rows: list[list[object]], title: str = "集計") -> bytes:
    """A real XLSX with one sheet of rows."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def sjis_csv_bytes(rows: list[list[str]]) -> bytes:
    """CSV encoded in Shift_JIS (CP932), as spreadsheets in village offices write it."""
    return "\r\n".join(",".join(row) for row in rows).encode("cp932")


def html_bytes(body: str) -> bytes:
    """A small HTML page with a script and a style that must not be indexed."""
    return (
        "<!doctype html><html><head><title>お知らせ</title>"
        "<style>.x{color:red} スタイル秘密</style><script>var s='スクリプト秘密';</script></head>"
        f"<body><h1>お知らせ</h1><p>{body}</p></body></html>"
    ).encode()


def zip_bomb_docx(size: int = 300 * 1024 * 1024) -> bytes:
    """A DOCX-shaped zip whose one part inflates to `size` bytes of zeros (highly compressible)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
        with zf.open("word/media/bomb.bin", "w", force_zip64=True) as fh:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                fh.write(chunk)
    return out.getvalue()
