"""Search at scale: index build rate and query latency of the project's index vs. SQLite FTS5 trigram.

Documents: N synthetic documents of realistic length (default 100,000), each made of 2–4 passages
of ../shared/data/ja-admin-corpus/corpus.jsonl (the village DX plan and 21 statutes) – about
1,500 characters – with metadata spread over 10 課, 8 年度 and the four 秘区分.

The project (a): the whoosh engine (``docsearch.engine.whoosh.engine.WhooshEngine``), entries written
the way ``workspace reindex`` writes them (``rebuild``: the in-memory bulk writer on
``SEARCH_INDEX_PROCS`` processes, ``SEARCH_INDEX_LIMITMB`` each), queries run through the engine
interface as ``search.search`` runs them (``query`` + ``search``: ``matching.run_query``): the user's words
(``parse_user_query``, title boost 2) AND the caller's permission tokens, the total, facet counts on
type / 年度 / 課 and the top 20 by BM25F (everything but the database snippets).  Opening the searcher
(``SearchIndex.searcher``) loads the per-segment facet columns and field lengths, as the API's does;
the term postings are read by the queries themselves, so the first round of queries runs cold.
Baseline (b): SQLite FTS5 with the trigram tokenizer on the same text, ``MATCH`` + bm25, top 20.
Both run in this process, on this machine, in the same run.  FTS5 trigram cannot match 1–2
character terms at all: those queries return nothing there (its "hits" column shows it).

Run: ``.venv/bin/python bench/search_scale.py [--docs 100000] [--procs 2] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docsearch.engine import Filters, IndexEntry, Page  # noqa: E402
from docsearch.engine.whoosh.engine import WhooshEngine  # noqa: E402
from docsearch.synonyms import get_synonyms  # noqa: E402
from workspace.config import DEFAULTS  # noqa: E402

FIELDS = {"title": 2.0, "body": 1.0}  # docsearch.search.FIELDS
CORPUS = ROOT.parent / "shared" / "data" / "ja-admin-corpus" / "corpus.jsonl"
DEPARTMENTS = [f"{i:02d}" for i in range(1, 11)]
VISIBILITIES = ["public", "internal", "internal", "internal", "department", "secret"]
QUERIES = [
    "予算",
    "村",
    "課",
    "個人情報",
    "デジタル",
    "マイナンバーカード",
    "地方自治法",
    "議会の議決",
    "DX推進",
    "令和5年",
    "第100条",
    "情報公開 請求",
    "補助金 OR 交付金",
    '"住民基本台帳"',
    "サーバー",
    "取り扱い",
    "防災",
    "公文書 -廃棄",
    "行政手続",
    "ICT",
]


def make_documents(n: int, seed: int = 7) -> list[IndexEntry]:
    """Return n synthetic documents built from the corpus passages (deterministic)."""
    passages = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        parts = rng.sample(passages, rng.randint(2, 4))
        body = "\n".join(p["body"] for p in parts)[:2000]
        visibility = rng.choice(VISIBILITIES)
        dept = rng.choice(DEPARTMENTS)
        acl = (
            ["all"]
            if visibility in ("public", "internal")
            else ["role:records", f"user:{rng.randint(1, 300)}"]
        )
        if visibility == "department":
            acl.append(f"dept:{dept}")
        docs.append(
            IndexEntry(
                type="document",
                object_id=i + 1,
                title=parts[0]["title"][:120],
                body=body,
                acl=acl,
                department=dept,
                fiscal_year=2019 + i % 8,
                visibility=visibility,
                date=20190401 + (i % 8) * 10000,
            )
        )
    return docs


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """Return p50, p95 and max in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


def bench_project(
    docs: list[IndexEntry], workdir: Path, procs: int, limitmb: int, repeat: int
) -> dict[str, object]:
    """Build with the production writer and time permission-trimmed, faceted queries."""
    index = WhooshEngine(workdir / "index", lock_timeout=60, limitmb=limitmb)
    index.open()
    start = time.perf_counter()
    index.rebuild([docs[i : i + 500] for i in range(0, len(docs), 500)], workers=procs)
    build = time.perf_counter() - start
    searcher = index.searcher()
    tokens = {"all", "user:17", "dept:03"}  # an ordinary member of staff of 課 03
    times: list[float] = []
    hits: dict[str, int] = {}
    for _ in range(repeat):
        for text in QUERIES:
            t0 = time.perf_counter()
            query = index.query(text, FIELDS, get_synonyms())
            found = index.search(query, tokens, Filters(), "relevance", Page(0, 20))
            hits[text] = found.total
            times.append(time.perf_counter() - t0)
    p50, p95, worst = percentiles(times)
    return {
        "build_s": build,
        "docs_per_s": len(docs) / build,
        "p50": p50,
        "p95": p95,
        "max": worst,
        "hits": hits,
        "segments": len(searcher.reader().leaf_readers()) if not searcher.is_atomic() else 1,
    }


def bench_fts5(docs: list[IndexEntry], workdir: Path, repeat: int) -> dict[str, object]:
    """Build an FTS5 trigram table on the same text and time MATCH + bm25 top 20."""
    conn = sqlite3.connect(workdir / "fts.sqlite3")
    conn.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='trigram')")
    start = time.perf_counter()
    with conn:
        conn.executemany(
            "INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)",
            ((d.object_id, d.title, d.body) for d in docs),
        )
    build = time.perf_counter() - start
    times: list[float] = []
    hits: dict[str, int] = {}
    for _ in range(repeat):
        for text in QUERIES:
            words = [w for w in text.replace('"', " ").split() if w != "OR" and not w.startswith("-")]
            match = " AND ".join('"' + w.replace('"', "") + '"' for w in words)
            t0 = time.perf_counter()
            try:
                rows = conn.execute(
                    "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 2.0, 1.0) LIMIT 20",
                    (match,),
                ).fetchall()
                total = conn.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)).fetchone()[0]
            except sqlite3.OperationalError:
                rows, total = [], 0
            times.append(time.perf_counter() - t0)
            hits[text] = total
            del rows
    p50, p95, worst = percentiles(times)
    return {
        "build_s": build,
        "docs_per_s": len(docs) / build,
        "p50": p50,
        "p95": p95,
        "max": worst,
        "hits": hits,
    }


def main() -> None:
    """Run both systems on the same documents and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--procs", type=int, default=DEFAULTS["SEARCH_INDEX_PROCS"])
    parser.add_argument("--limitmb", type=int, default=DEFAULTS["SEARCH_INDEX_LIMITMB"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    docs = make_documents(args.docs)
    chars = sum(len(d.body) for d in docs) / len(docs)
    print(
        f"{len(docs):,} documents, {chars:,.0f} characters on average, "
        f"{len(QUERIES)} queries x {args.repeat}, {args.procs} writer process(es), {args.limitmb} MB each"
    )
    with tempfile.TemporaryDirectory() as tmp:
        project = bench_project(docs, Path(tmp), args.procs, args.limitmb, args.repeat)
        fts = bench_fts5(docs, Path(tmp), args.repeat)
    print(f"{'system':<34}{'build docs/s':>14}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, r in (("project (whoosh bigram+unigram)", project), ("SQLite FTS5 trigram", fts)):
        print(f"{name:<34}{r['docs_per_s']:>14,.0f}{r['p50']:>10.1f}{r['p95']:>10.1f}{r['max']:>10.1f}")
    print(f"(project index: {project['segments']} segment(s))")
    print("\nhits per query (project, trimmed to one ordinary user / FTS5, untrimmed):")
    for text in QUERIES:
        print(f"  {text:<22}{project['hits'][text]:>8,}{fts['hits'][text]:>8,}")


if __name__ == "__main__":
    main()
