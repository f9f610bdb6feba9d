"""Benchmark: render and sign one 5-step 起案用紙, beside a baseline measured in the same run.

Project figure: render_record() of a decided record with a five-box 決裁欄, one 合議 box, an
attachment and a history page, then sign_pdf() with the village key (PAdES B-B). Goal: p50 ≤ 0.3 s.

Baseline: reportlab drawing one line of Japanese on a plain A4 page in the same embedded font, signed
by pyHanko's stock SimpleSigner.load() + PdfSigner with default settings — the cost of the libraries
alone, without our layout, and without our signer's cached key and fixed signature size.

Run: .venv/bin/python bench/approvals_pdf.py [-n 30] [--key-type rsa|ec]
bench/approvals.py may call run() and print its result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Run as a script, bench/ comes first on sys.path and bench/approvals.py would shadow the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from approvals.pdf import AttachmentLine, HistoryLine, RecordSheet, StampBox, render_record
from approvals.pdf_layout import resolve_font
from approvals.seal import SealImprint
from approvals.signing import init_keys, load_signer, sign_pdf, verify_pdf
from workspace.calendar import JST

GOAL_SECONDS = 0.3


def five_step_sheet() -> RecordSheet:
    """Return a decided record: 係長, 課長, 総務課長 (合議 row), 副村長 by deputy, 村長 後閲."""
    day = dt.date(2026, 11, 26)
    steps = [
        StampBox("係長", SealImprint("総務課", day, "佐藤")),
        StampBox("課長", SealImprint("総務課", day, "高橋")),
        StampBox("副村長", SealImprint("総務課", day, "鈴木", "代"), "代決"),
        StampBox("村長", None, "後閲"),
        StampBox("会計管理者", SealImprint("会計課", day, "田中")),
    ]
    at = dt.datetime(2026, 11, 26, 9, 0, tzinfo=JST)
    return RecordSheet(
        request_id=1,
        document_number="榛総第1号",
        title="令和8年度 村民運動会の開催について（伺い）",
        body="\n".join(["　標記のことについて、下記のとおり開催してよろしいか伺います。"] * 12),
        drafted_on=day,
        decided_on=day,
        drafter_name="山田 太郎",
        drafter_department="総務課",
        classification="総務 / 行事",
        retention_years=5,
        authority_label="副村長決裁",
        amount=1_234_000,
        stamp_rows=[steps, [StampBox("合議 企画財政課長", SealImprint("企画財政課", day, "林"))]],
        attachments=[AttachmentLine("見積書.pdf", 123_456, "ab" * 32)],
        history=[HistoryLine(at + dt.timedelta(hours=h), "職員", "承認", "確認しました") for h in range(6)],
    )


def plain_page(font_name: str) -> bytes:
    """Return a one-page A4 PDF with one line of Japanese in the given (registered) font."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, initialFontName=font_name)
    canvas.setFont(font_name, 12)
    canvas.drawString(72, 770, "起案用紙 令和8年度 村民運動会の開催について（伺い）")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def stock_signer(key_dir: Path) -> signers.Signer:
    """Return pyHanko's stock SimpleSigner for the key directory (loaded once, outside the timing)."""
    return signers.SimpleSigner.load(
        str(key_dir / "signing-key.pem"),
        str(key_dir / "signing-cert.pem"),
        ca_chain_files=(str(key_dir / "ca-cert.pem"),),
    )


def stock_sign(pdf: bytes, signer: signers.Signer) -> bytes:
    """Return pdf signed the plain pyHanko way (signature size estimated by a dry run)."""
    meta = signers.PdfSignatureMetadata(field_name="Baseline", subfilter=SigSeedSubFilter.PADES)
    out = io.BytesIO()
    signers.PdfSigner(meta, signer=signer).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), output=out)
    return out.getvalue()


def timed(function: Callable[[], object], repetitions: int) -> list[float]:
    """Return the wall-clock seconds of each of repetitions calls (after one warm-up call)."""
    function()
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> dict[str, float]:
    """Return p50 and p95 in seconds."""
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": statistics.median(ordered), "p95": p95}


def run(repetitions: int = 30, key_type: str = "rsa") -> dict[str, dict[str, float]]:
    """Return {"project": …, "project_render": …, "project_sign": …, "baseline": …} with p50/p95 seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        key_dir = Path(tmp)
        init_keys(key_dir, key_type=key_type)
        signer, baseline_signer = load_signer(key_dir), stock_signer(key_dir)
        sheet = five_step_sheet()
        font = resolve_font()
        rendered = render_record(sheet)
        signed = sign_pdf(rendered, signer)
        assert verify_pdf(signed, key_dir).valid, "benchmark output must verify"
        return {
            "project": summary(timed(lambda: sign_pdf(render_record(sheet), signer), repetitions)),
            "project_render": summary(timed(lambda: render_record(sheet), repetitions)),
            "project_sign": summary(timed(lambda: sign_pdf(rendered, signer), repetitions)),
            "baseline": summary(
                timed(lambda: stock_sign(plain_page(font.name), baseline_signer), repetitions)
            ),
        }


def main() -> None:
    """Print the figures for each key type asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--repetitions", type=int, default=30)
    parser.add_argument("--key-type", choices=["rsa", "ec", "both"], default="both")
    args = parser.parse_args()
    for key_type in ["rsa", "ec"] if args.key_type == "both" else [args.key_type]:
        figures = run(args.repetitions, key_type)
        label = {"rsa": "RSA 3072", "ec": "EC P-256"}[key_type]
        print(f"render + sign one 5-step 起案用紙, {label}, n={args.repetitions}")
        for name, values in figures.items():
            print(f"  {name:15s} p50 {values['p50'] * 1000:7.1f} ms   p95 {values['p95'] * 1000:7.1f} ms")
        verdict = "meets" if figures["project"]["p50"] <= GOAL_SECONDS else "MISSES"
        print(f"  goal p50 ≤ {GOAL_SECONDS:.1f} s: {verdict}")


if __name__ == "__main__":
    main()
