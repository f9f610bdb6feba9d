"""The 日付印: one geometry for the browser (SVG) and the PDF."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from approvals.seal import SealImprint, seal_layout, seal_svg, split_department, text_width

SVG = "{http://www.w3.org/2000/svg}"
DAY = dt.date(2026, 11, 26)


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, the point is that it is well-formed


def _texts(svg: str) -> list[str]:
    return [el.text or "" for el in _parse(svg).iter(f"{SVG}text")]


def test_svg_shows_department_short_wareki_date_and_family_name() -> None:
    """Does the SVG carry the three texts of a seal, top to bottom?"""
    svg = seal_svg(SealImprint("総務課", DAY, "山田"))
    assert _texts(svg) == ["総務課", "8.11.26", "山田"]
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-label") == "総務課 8.11.26 山田 の日付印"
    assert len(list(root.iter(f"{SVG}circle"))) == 1
    assert len(list(root.iter(f"{SVG}line"))) == 2


def test_svg_escapes_markup_in_names() -> None:
    """Does a department name with <script> stay text, in the content and in the aria-label?"""
    svg = seal_svg(SealImprint('<script>alert("x")</script>&課', DAY, "<b>山田</b>"))
    assert "<script>" not in svg and "<b>" not in svg
    root = _parse(svg)  # still well-formed XML
    assert list(root.iter(f"{SVG}script")) == []
    texts = _texts(svg)
    assert "<b>山田</b>" in texts
    assert any("<script>" in text for text in texts)
    assert root.get("aria-label", "").startswith('<script>alert("x")</script>&課')


def test_mark_is_drawn_in_a_corner_badge() -> None:
    """Is an optional mark (代) shown and announced?"""
    svg = seal_svg(SealImprint("総務課", DAY, "山田", "代"))
    assert "代" in _texts(svg)
    assert len(list(_parse(svg).iter(f"{SVG}rect"))) == 1
    assert _parse(svg).get("aria-label", "").endswith("（代）")


def test_long_department_is_split_over_two_lines() -> None:
    """Does 教育委員会事務局 get two lines rather than an unreadable single one?"""
    layout = seal_layout(SealImprint("教育委員会事務局", DAY, "山田"))
    assert [t.text for t in layout.texts[:2]] == ["教育委員会", "事務局"]
    assert split_department("教育委員会事務局") == ("教育委員会", "事務局")


def test_every_text_fits_inside_the_circle() -> None:
    """Do all texts stay inside the circle for short and long names alike?"""
    names = ["課", "総務課", "企画財政課", "健康福祉課", "教育委員会事務局", "ＡＢＣＤＥＦＧＨＩＪＫＬ"]
    for name in names:
        layout = seal_layout(SealImprint(name, DAY, "勅使河原"))
        for item in layout.texts:
            half = text_width(item.text) * item.size / 2
            top = item.baseline - item.size * 0.88
            for corner_y in (top, top + item.size):
                dy = corner_y - layout.cy
                assert half**2 + dy**2 <= layout.radius**2, (name, item)


def test_svg_size_scales_the_same_geometry() -> None:
    """Does the size argument only scale the drawing?"""
    small, large = (
        seal_svg(SealImprint("総務課", DAY, "山田"), 40),
        seal_svg(SealImprint("総務課", DAY, "山田"), 80),
    )
    assert 'width="40"' in small and 'width="80"' in large
    assert _parse(large).find(f"{SVG}circle").get("r") == "36.8"
    assert _parse(small).find(f"{SVG}circle").get("r") == "18.4"
