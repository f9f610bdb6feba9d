"""workspace.sniff: what a file's bytes say it is, whatever its name claims."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from PIL import Image

from workspace import sniff

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


def _head(data: bytes, complete: bool = True) -> sniff.Head:
    return sniff.Head(data, complete)


def test_read_head_says_whether_it_is_the_whole_file(tmp_path: Path) -> None:
    """Does read_head return the first bytes and tell a whole small file from the start of a big one?"""
    small, big = tmp_path / "small", tmp_path / "big"
    small.write_bytes(b"abc")
    big.write_bytes(b"x" * 100)
    assert sniff.read_head(small) == sniff.Head(b"abc", True)
    assert sniff.read_head(big, 10) == sniff.Head(b"x" * 10, False)


def test_signatures_are_found_in_the_bytes() -> None:
    """Are PNG, PDF and zip recognised by their magic numbers, and plain text by none?"""
    png = _png()
    assert sniff.guess(png) == sniff.Guess("png", "image/png")
    assert sniff.is_png(png) and not sniff.is_png(PDF)
    assert sniff.guess(PDF) == sniff.Guess("pdf", "application/pdf") and sniff.is_pdf(PDF)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("a.txt", "a")
    assert sniff.is_zip(out.getvalue()) and not sniff.is_zip(PDF)
    assert sniff.guess("回覧です。".encode()) is None


def test_text_in_the_encodings_of_a_japanese_office() -> None:
    """Are UTF-8 (with or without BOM) and Shift_JIS text, and UTF-16 with a BOM only when allowed?"""
    words = "令和8年度 予算要求について\n"
    assert sniff.is_text(_head(words.encode("utf-8")))
    assert sniff.is_text(_head(words.encode("utf-8-sig")))
    assert sniff.is_text(_head(words.encode("cp932")))
    utf16 = words.encode("utf-16")
    assert sniff.is_text(_head(utf16))
    assert not sniff.is_text(_head(utf16), utf16=False)
    assert sniff.decode_text(_head(words.encode("cp932"))) == words


def test_binary_is_not_text() -> None:
    """Are bytes with a NUL, undecodable bytes, and many control characters refused as text?"""
    assert not sniff.is_text(_head(b"\x7fELF\x02\x01\x01" + b"\0" * 100))
    assert sniff.has_binary_nul(b"ab\x00cd") and not sniff.has_binary_nul("あ".encode("utf-16"))
    assert not sniff.is_text(_head(b"\x81 \x81 \x81 "))  # a lead byte with no trail: neither encoding
    noisy = b"\x01\x02\x03\x04" * 50
    assert not sniff.is_text(_head(noisy))
    assert sniff.is_text(_head(noisy), few_controls=False)


def test_a_character_cut_at_the_end_of_a_partial_head_is_still_text() -> None:
    """Is a multi-byte character cut by the head's end fine, but not at the real end of the file?"""
    cut = "文書".encode()[:-1]
    assert sniff.is_text(_head(cut, complete=False))
    assert not sniff.is_text(_head(cut + b"\xff", complete=True))


def test_html_markup_is_seen() -> None:
    """Is HTML recognised (whatever its case and leading blanks), and plain text not?"""
    assert sniff.looks_like_html(b"  \n<!DOCTYPE html><html><body>x</body></html>")
    assert sniff.looks_like_html(b"<DIV>x</DIV>")
    assert not sniff.looks_like_html("議事録 1 < 2".encode())


def test_extension_and_clean_filename() -> None:
    """Is the extension read lower-cased, and a file name stripped of paths, controls and bidi overrides?"""
    assert sniff.extension("報告.PDF") == ".pdf"
    assert sniff.extension(None) == "" and sniff.extension("memo") == ""
    assert sniff.clean_filename("C:\\Users\\a\\報告書.pdf") == "報告書.pdf"
    assert sniff.clean_filename("../../etc/passwd") == "passwd"
    assert sniff.clean_filename("in\u202evoice\x00.txt") == "invoice.txt"
    assert sniff.clean_filename("...") == "file" and sniff.clean_filename(None) == "file"
    long = "あ" * 300 + ".xlsx"
    assert len(sniff.clean_filename(long)) == 200 and sniff.clean_filename(long).endswith(".xlsx")
