"""The decided 起案用紙 looked at as a picture: a red 日付印 in the 決裁欄 for every person who acted.

The record once came out with 「（決裁経路なし）」 and no seals at all while every text check passed, so
these tests go through the service (起案 → each approval → the signed record) and then read the PDF
the way a person does: ``pdftoppm`` renders page 1, ``pdftotext -bbox`` says where the words are,
and each acting person's family name and seal date must be drawn in seal red inside the 決裁欄.
"""

from __future__ import annotations

import html
import io
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from approvals import record, route_store, service
from approvals.seal import SEAL_RED
from tests.approvals import test_service_support as support
from workspace import calendar, db
from workspace.calendar import wareki_short

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys

DPI = 80
SCALE = DPI / 72  # PDF points to pixels

THREE_STEPS = {
    "key": "three",
    "name": "三段決裁",
    "number_format": "榛{dept_prefix}第{n}号",
    "number_at": "decision",
    "steps": [
        {"kind": "review", "approver": {"relation": "section_chief"}},
        {"kind": "review", "approver": {"relation": "department_head"}},
        {"kind": "decide", "authority": [{"approver": {"title": "村長"}}]},
    ],
}

FIVE_WITH_CONSULT = {
    "key": "five",
    "name": "合議つき五段決裁",
    "number_format": "榛{dept_prefix}第{n}号",
    "number_at": "decision",
    "steps": [
        {"kind": "review", "approver": {"relation": "section_chief"}},
        {"kind": "review", "approver": {"relation": "department_head"}},
        {"kind": "consult", "mode": "all", "approvers": [{"user": "kikaku"}]},
        {"kind": "review", "approver": {"title": "副村長"}},
        {"kind": "decide", "authority": [{"approver": {"title": "村長"}}]},
    ],
}


def _decide(org: dict[str, Any], route: dict[str, Any], approvers: list[str]) -> bytes:
    """Draft as 山田, approve in order as each of ``approvers``; return the signed record's bytes."""
    route_store.save(route, org["admin"])
    db.session().commit()
    row = service.create(
        org["yamada"],
        {"route": route["key"], "title": "公民館の備品購入について", "body": "本文", "submit": True},
    )
    for username in approvers:
        row = service.act(org[username], row.id, "approve")
    assert row.status == "approved"
    pdf, _ = record.pdf_for(row)
    assert pdf.startswith(b"%PDF")
    return pdf


def _words(path: Path) -> list[tuple[str, float, float, float, float]]:
    """Return page 1's words as (text, xMin, yMin, xMax, yMax) in points, from pdftotext -bbox."""
    out = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-bbox", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [
        (html.unescape(t), float(a), float(b), float(c), float(d))
        for a, b, c, d, t in re.findall(pattern, out)
    ]


def _page_image(path: Path, tmp_path: Path) -> Image.Image:
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-png", "-r", str(DPI), str(path), str(tmp_path / "p")], check=True
    )
    (png,) = tmp_path.glob("p*.png")
    return Image.open(io.BytesIO(png.read_bytes())).convert("RGB")


def _red_pixels(image: Image.Image, box: tuple[float, float, float, float]) -> int:
    """Count seal-red pixels inside a box given in points."""
    target = tuple(int(SEAL_RED[i : i + 2], 16) for i in (1, 3, 5))
    x0, y0, x1, y1 = (round(v * SCALE) for v in box)
    crop = image.crop((x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)))
    pixels = np.asarray(crop, dtype=np.int16)
    return int((np.abs(pixels - np.array(target)) < 70).all(axis=2).sum())


def _stamp_band(words: list[tuple[str, float, float, float, float]]) -> tuple[float, float]:
    """Return the vertical extent (points) of the 決裁欄: from its heading to the 本文 heading."""
    top = next(w[4] for w in words if w[0] == "決裁欄")
    bottom = next(w[2] for w in words if w[0] == "本文" and w[2] > top)
    return top, bottom


def _assert_seals(pdf: bytes, tmp_path: Path, family_names: list[str]) -> None:
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf)
    layout = subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "決裁経路なし" not in layout
    words = _words(path)
    image = _page_image(path, tmp_path)
    top, bottom = _stamp_band(words)
    in_band = [w for w in words if top <= w[2] and w[4] <= bottom]
    today = wareki_short(calendar.today())
    for family in family_names:
        names = [w for w in in_band if w[0] == family]
        assert names, f"no seal with {family} in the 決裁欄: {[w[0] for w in in_band]}"
        text, x0, y0, x1, y1 = names[0]
        assert _red_pixels(image, (x0, y0, x1, y1)) > 5, f"{family}'s seal is not drawn in red"
        # The seal's date sits above the name, inside the same circle.
        dates = [w for w in in_band if w[0] == today and abs((w[1] + w[3]) / 2 - (x0 + x1) / 2) < 20]
        assert dates, f"no seal date {today} above {family}"
    # Nothing red outside the 決裁欄 on page 1 but the seals: one seal per person, none missing.
    assert _red_pixels(image, (0, top, image.width / SCALE, bottom)) > 40 * len(family_names)


def test_three_step_record_carries_a_red_seal_for_each_approver(org: dict[str, Any], tmp_path: Path) -> None:
    """Does the signed record of a 3-step route show 鈴木, 佐藤 and 村上 stamped in red?"""
    pdf = _decide(org, THREE_STEPS, ["suzuki", "sato", "soncho"])
    _assert_seals(pdf, tmp_path, ["鈴木", "佐藤", "村上"])


def test_five_step_record_with_consultation_carries_every_seal(org: dict[str, Any], tmp_path: Path) -> None:
    """Does a 5-step route with a 合議 department show all five seals, the 合議 one included?"""
    pdf = _decide(org, FIVE_WITH_CONSULT, ["suzuki", "sato", "kikaku", "fuku", "soncho"])
    _assert_seals(pdf, tmp_path, ["鈴木", "佐藤", "企田", "副島", "村上"])


@pytest.mark.parametrize("route", [THREE_STEPS])
def test_draft_record_shows_the_route_boxes_before_anyone_acts(
    org: dict[str, Any], tmp_path: Path, route: dict[str, Any]
) -> None:
    """Does the unsigned draft of a submitted request draw the 決裁欄 boxes, with no seal yet?"""
    route_store.save(route, org["admin"])
    db.session().commit()
    row = service.create(
        org["yamada"], {"route": route["key"], "title": "下書きの確認", "body": "本文", "submit": True}
    )
    pdf, _ = record.pdf_for(row)
    path = tmp_path / "draft.pdf"
    path.write_bytes(pdf)
    words = _words(path)
    top, bottom = _stamp_band(words)
    band = [w[0] for w in words if top <= w[2] and w[4] <= bottom]
    assert "決裁経路なし" not in "".join(band)
    assert "係長" in band and "課長" in band
    assert _red_pixels(_page_image(path, tmp_path), (0, top, 600, bottom)) == 0
