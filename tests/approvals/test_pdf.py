"""The 起案用紙 PDF, checked with the tools a records clerk would use: pdftotext, pdffonts, pdfinfo."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from approvals.pdf import AttachmentLine, HistoryLine, RecordSheet, StampBox, render_record
from approvals.pdf_layout import FONT_CANDIDATES
from approvals.seal import SealImprint
from workspace.calendar import JST

DIGEST = "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea"
MINCHO = next((p for p in FONT_CANDIDATES if p.endswith("ipaexm.ttf") and Path(p).is_file()), None)


def seal(department: str, family: str, day: int = 26, mark: str | None = None) -> SealImprint:
    return SealImprint(department, dt.date(2026, 11, day), family, mark)


def sample_sheet(**changes: object) -> RecordSheet:
    """Return a decided 5-step record (係長, 課長 taken over, 副村長 by deputy, 村長 後閲) with one 合議."""
    sheet = RecordSheet(
        request_id=42,
        document_number="榛総第123号",
        title="令和8年度 村民運動会の開催について（伺い）",
        body="　標記のことについて、下記のとおり開催してよろしいか伺います。\n\n記\n\n１　日時　10月10日",
        drafted_on=dt.date(2026, 11, 20),
        decided_on=dt.date(2026, 11, 26),
        drafter_name="山田 太郎",
        drafter_department="総務課",
        classification="総務 / 行事 / 村民運動会",
        retention_years=5,
        authority_label="副村長決裁",
        amount=1234000,
        stamp_rows=[
            [
                StampBox("係長", seal("総務課", "佐藤", 21)),
                StampBox("課長", None, "引上げ"),
                StampBox("総務課長", seal("総務課", "高橋", 24)),
                StampBox("副村長", seal("総務課", "鈴木", 26, "代"), "代決"),
                StampBox("村長", None, "後閲"),
            ],
            [StampBox("合議 教育委員会事務局", seal("教育委員会事務局", "勅使河原", 22))],
        ],
        attachments=[AttachmentLine("見積書.pdf", 123456, DIGEST)],
        history=[
            HistoryLine(dt.datetime(2026, 11, 20, 9, 30, tzinfo=JST), "山田 太郎", "起案"),
            HistoryLine(
                dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC), "鈴木 花子", "代決", "急ぎのため代決"
            ),
        ],
        draft=False,
    )
    return dataclasses.replace(sheet, **changes)


def write(tmp_path: Path, pdf: bytes, name: str = "record.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


def pdftotext(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", *pages, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def page_count(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def pdffonts(path: Path) -> list[list[str]]:
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


def pink_pixels_in_lower_half(path: Path, page: int) -> int:
    """Count light red pixels (the watermark's colour) in the lower half of a page rendered by pdftoppm."""
    ppm = subprocess.run(
        ["pdftoppm", "-r", "40", "-f", str(page), "-l", str(page), str(path)], capture_output=True, check=True
    ).stdout
    _, size, _, data = ppm.split(b"\n", 3)
    width, height = map(int, size.split())
    count = 0
    for offset in range(width * (height // 2) * 3, len(data), 3):
        r, g, b = data[offset : offset + 3]
        count += r > 240 and 195 < g < 248 and abs(g - b) < 10 and r - g > 6
    return count


def test_pdftotext_shows_header_stamps_attachments_and_history(tmp_path: Path) -> None:
    """Can the record's text be extracted: header, seals, marks, sha256 and history times (+09:00)?"""
    path = write(tmp_path, render_record(sample_sheet()))
    text = pdftotext(path)
    for expected in [
        "起案用紙",
        "令和8年度 村民運動会の開催について（伺い）",
        "榛総第123号",
        "令和8年11月20日（2026年11月20日）",
        "令和8年11月26日（2026年11月26日）",
        "山田 太郎",
        "副村長決裁",
        "¥1,234,000",
        "5年",
        "総務 / 行事 / 村民運動会",
        "8.11.21",
        "8.11.26",
        "佐藤",
        "勅使河原",
        "教育委員会",
        "代決",
        "引上げ",
        "後閲",
        "合",
        DIGEST,
        "123,456 B",
        "令和8年11月20日 09:30",
        "令和8年11月26日 10:00",
        "急ぎのため",
        "標記のことについて",
    ]:
        assert expected in text, expected
    assert "未決裁" not in text


def test_history_is_on_its_own_last_page(tmp_path: Path) -> None:
    """Is the full action history on the final page?"""
    path = write(tmp_path, render_record(sample_sheet()))
    last = pdftotext(path, page_count(path))
    assert "処理履歴" in last and "令和8年11月20日 09:30" in last
    assert "処理履歴" not in pdftotext(path, 1)


def test_ipaex_font_is_embedded_and_no_font_is_missing(tmp_path: Path) -> None:
    """Does pdffonts list the IPAex font as embedded, and nothing that is not embedded?"""
    fonts = pdffonts(write(tmp_path, render_record(sample_sheet())))
    assert fonts, "no fonts listed"
    assert any("IPAex" in row[0] for row in fonts)
    for row in fonts:
        emb = row[-5]  # columns: name type [encoding…] emb sub uni object-id gen
        assert emb == "yes", row


@pytest.mark.skipif(MINCHO is None, reason="IPAex Mincho not installed")
def test_font_path_selects_another_truetype_font(tmp_path: Path) -> None:
    """Does font_path choose the font that gets embedded?"""
    fonts = pdffonts(write(tmp_path, render_record(sample_sheet(), font_path=MINCHO)))
    assert [row[0].split("+")[-1] for row in fonts] == ["IPAexMincho"]


def test_markup_in_the_body_and_comments_renders_literally(tmp_path: Path) -> None:
    """Are <script>, <b> and & shown as typed, never interpreted as Paragraph markup?"""
    body = "予算 <b>1,000円</b> & 予備費 <script>alert(1)</script> &amp; <font size=40>大</font>"
    history = [
        HistoryLine(dt.datetime(2026, 11, 26, 9, 0, tzinfo=JST), "<i>佐藤</i>", "承認", "了解 <br/> & 確認")
    ]
    text = pdftotext(
        write(tmp_path, render_record(sample_sheet(body=body, title="件名 <u>&</u>", history=history)))
    )
    assert "<b>1,000円</b> & 予備費 <script>alert(1)</script> &amp; <font size=40>大</font>" in text
    assert "件名 <u>&</u>" in text
    assert "<i>佐藤</i>" in text and "了解 <br/> & 確認" in text


def test_long_body_flows_over_several_pages(tmp_path: Path) -> None:
    """Does a long Japanese body wrap and continue on further pages instead of being cut off?"""
    line = "　この段落は本文の折り返しと改ページを確かめるための長い文章であり、句読点も含みます。" * 3
    body = "\n".join(f"{n}. {line}" for n in range(1, 61)) + "\n最後の行です。"
    path = write(tmp_path, render_record(sample_sheet(body=body)))
    assert page_count(path) >= 4
    text = pdftotext(path)
    assert "60. " in text and "最後の行です。" in text
    assert "処理履歴" in pdftotext(path, page_count(path))
    pages = [pdftotext(path, n) for n in range(1, page_count(path) + 1)]
    assert all(re.search(rf"{n}\s*/\s*{len(pages)}", page) for n, page in enumerate(pages, start=1))


def test_draft_has_a_watermark_on_every_page_and_a_record_has_none(tmp_path: Path) -> None:
    """Is 「未決裁」 on each page of a draft (drawn and in the text), and absent from a decided record?"""
    body = "\n".join(["本文の行です。"] * 80)
    draft = write(tmp_path, render_record(sample_sheet(draft=True, decided_on=None, body=body)), "draft.pdf")
    final = write(tmp_path, render_record(sample_sheet(body=body)), "final.pdf")
    assert page_count(draft) >= 2
    for page in range(1, page_count(draft) + 1):
        assert "【未決裁】" in pdftotext(draft, page)
        assert pink_pixels_in_lower_half(draft, page) > 1000
    for page in range(1, page_count(final) + 1):
        assert "未決裁" not in pdftotext(final, page)
        assert pink_pixels_in_lower_half(final, page) < 100


def test_watermark_text_can_say_draft(tmp_path: Path) -> None:
    """Can a draft say 「下書き」 instead?"""
    text = pdftotext(write(tmp_path, render_record(sample_sheet(draft=True, watermark="下書き"))))
    assert "【下書き】" in text and "未決裁" not in text


def test_metadata_names_title_drafter_document_number_and_request(tmp_path: Path) -> None:
    """Does /Info carry the title, author, subject and the custom /WorkspaceRequestId?"""
    reader = PdfReader(io.BytesIO(render_record(sample_sheet())))
    meta = reader.metadata
    assert meta.title == "令和8年度 村民運動会の開催について（伺い）"
    assert meta.author == "山田 太郎"
    assert meta.subject == "榛総第123号"
    assert meta["/WorkspaceRequestId"] == "42"
    assert meta["/WorkspaceDocumentNumber"] == "榛総第123号"
    assert len(reader.pages) >= 2 and reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)


def test_record_without_optional_values(tmp_path: Path) -> None:
    """Does a bare record render: no number, no decision, 永年, no amount, attachments or history?"""
    sheet = sample_sheet(
        document_number=None,
        decided_on=None,
        retention_years=None,
        amount=None,
        classification=None,
        attachments=[],
        history=[],
        stamp_rows=[],
        body="",
    )
    text = pdftotext(write(tmp_path, render_record(sheet)))
    for expected in ["永年", "添付ファイルなし", "処理履歴なし", "（決裁経路なし）", "文書番号未定"]:
        assert expected in text, expected


def test_many_steps_continue_on_a_second_line_of_boxes(tmp_path: Path) -> None:
    """Does a route with more boxes than fit across the page still show every role?"""
    roles = [f"審査{n}" for n in range(1, 13)]
    rows = [[StampBox(role, seal("総務課", "山田")) for role in roles]]
    text = pdftotext(write(tmp_path, render_record(sample_sheet(stamp_rows=rows))))
    assert all(role in text for role in roles)
