"""Deterministic synthetic index entries: enough documents that common terms span several blocks."""

from __future__ import annotations

import random

from docsearch.engine import IndexEntry

WORDS = [
    "予算",
    "決算",
    "村",
    "課",
    "個人情報",
    "情報公開",
    "請求",
    "議会の議決",
    "地方自治法",
    "DX推進",
    "デジタル",
    "マイナンバーカード",
    "令和5年度",
    "第100条",
    "補助金",
    "交付金",
    "住民基本台帳",
    "サーバー",
    "取り扱い",
    "防災",
    "公文書",
    "廃棄",
    "行政手続",
    "ICT",
    "教育費",
    "土木費",
    "条例",
    "規程",
    "保護",
    "公開",
    "会議録",
    "申し込み書",
    "Wi-Fi",
    "2026",
    "の",
    "を",
    "は",
]
TOKENS = ["all", "user:17", "dept:03", "role:records"]


def entries(count: int, seed: int = 11) -> list[IndexEntry]:
    """Return ``count`` documents of random word runs with varied acl, 課, 年度 and dates."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        dept = f"{rng.randint(1, 5):02d}"
        acl = rng.choice(
            [["all"], ["role:records", f"user:{rng.randint(1, 30)}"], ["role:records", f"dept:{dept}"]]
        )
        out.append(
            IndexEntry(
                type=rng.choice(["document", "approval", "message"]),
                object_id=i + 1,
                title="".join(rng.sample(WORDS, 3)),
                body="".join(rng.choice(WORDS) for _ in range(rng.randint(5, 40))),
                acl=acl,
                department=rng.choice([dept, ""]),
                fiscal_year=rng.choice([2024, 2025, 2026, None]),
                visibility=rng.choice(["public", "internal", "department", "secret"]),
                date=20240401 + rng.randint(0, 900),
            )
        )
    return out
