"""Search quality on real Japanese administrative text: the project vs. whoosh default vs. SQLite FTS5.

Collection: ../shared/data/ja-admin-corpus/corpus.jsonl (2,150 passages: the village DX plan and 21
statutes).  Two sets of judged queries, both measured in every run:

* ``original`` – bench/queries_quality.json (86), written by hand, of every kind (single kanji inside
  compounds, katakana, full/half width, acronyms, numbers, several words, phrases, exclusion, OR,
  long-vowel / okurigana / 旧字体 / katakana variants, synonyms);
* ``fresh`` – bench/queries_quality_fresh.json (68), written later (issue 10) by reading random
  passages and writing the query and its relevance rule together, without looking at any search
  output (its "about" says how) – a check that the figures of the first set are not tuned to it.

Relevance is ground truth, independent of every engine: a plain substring oracle (``Oracle``) over
the passage title and body after NFKC, case folding and removal of line wraps inside Japanese text.
A passage is relevant when every concept of the query has one of its accepted spellings in the
title or the body, and none of the excluded spellings occurs.  Latin/digit spellings match whole
words only (ai is not found inside "mail").

Metrics, over the top 10 results of each query, averaged over queries:
* recall@10 = relevant in top 10 / min(10, number relevant) – so 1.0 means "the first page is
  filled with relevant passages", also for queries with hundreds of relevant passages;
* precision@10 = relevant in top 10 / number of results shown (at most 10); 0 when nothing is
  returned (every query has at least one relevant passage);
* MRR = 1 / rank of the first relevant result (0 when none in the top 10).

Systems, measured in the same run on the same data: (a) the project as the search API runs it
(the index schema's bigram + unigram fields, docsearch.query parser, the engine's matching.run_query:
BM25F, title boost 2), (b) whoosh's default
StandardAnalyzer with its MultifieldParser (``-word`` rewritten to NOT), (c) SQLite FTS5 with the
trigram tokenizer (terms quoted, ``-word`` → NOT, bm25 with title weight 2).

Run: ``.venv/bin/python bench/search_quality.py [--json] [--verbose]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from whoosh import qparser
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import RamStorage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docsearch.engine import IndexEntry, entry_key  # noqa: E402
from docsearch.engine.whoosh.index import document_fields, get_schema  # noqa: E402
from docsearch.engine.whoosh.matching import run_query  # noqa: E402
from docsearch.engine.whoosh.queries import literal_queries, parse_user_query  # noqa: E402
from docsearch.query import QueryError  # noqa: E402

CORPUS = ROOT.parent / "shared" / "data" / "ja-admin-corpus" / "corpus.jsonl"
QUERY_SETS = {
    "original": Path(__file__).with_name("queries_quality.json"),
    "fresh": Path(__file__).with_name("queries_quality_fresh.json"),
}
K = 10

Doc = dict[str, str]
Search = Callable[[str], list[str]]


# --- ground truth ---------------------------------------------------------------------------------
_JA = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆〇"
_WRAP_RE = re.compile(rf"(?<=[{_JA}])\s+(?=[{_JA}])")


def oracle_text(text: str) -> str:
    """NFKC, case-folded, without whitespace between two Japanese characters (line wraps)."""
    return _WRAP_RE.sub("", unicodedata.normalize("NFKC", text).casefold())


class Oracle:
    """Relevance judgments from accepted spellings; no search-engine code involved."""

    def __init__(self, docs: list[Doc]) -> None:
        self.texts = [(d["id"], oracle_text(d["title"]), oracle_text(d["body"])) for d in docs]

    @staticmethod
    def _pattern(spelling: str) -> re.Pattern[str]:
        s = oracle_text(spelling)
        p = re.escape(s)
        if re.match(r"[0-9a-z]", s):
            p = r"(?<![0-9a-z])" + p
        if re.search(r"[0-9a-z]$", s):
            p += r"(?![0-9a-z])"
        return re.compile(p)

    def relevant(self, query: dict) -> set[str]:
        """Return the ids of the passages relevant to a judged query."""
        concepts = [[self._pattern(s) for s in c] for c in query.get("must") or [[query["q"]]]]
        excluded = [self._pattern(s) for s in query.get("not", [])]
        found = set()
        for doc_id, title, body in self.texts:

            def has(p: re.Pattern[str], title: str = title, body: str = body) -> bool:
                return bool(p.search(title) or p.search(body))

            if all(any(has(p) for p in c) for c in concepts) and not any(has(p) for p in excluded):
                found.add(doc_id)
        return found


# --- systems --------------------------------------------------------------------------------------
def build_project(docs: list[Doc]) -> Search:
    """The production path: the index schema, entries as ``workspace reindex`` writes them (one
    ``acl`` token for everyone), and ``engine.whoosh.matching.run_query`` as the search API calls it."""
    ids = {}
    ix = RamStorage().create_index(get_schema())
    with ix.writer() as w:
        for number, d in enumerate(docs, start=1):
            ids[entry_key("document", number)] = d["id"]
            entry = IndexEntry(
                type="document", object_id=number, title=d["title"], body=d["body"], acl=["all"]
            )
            w.add_document(**document_fields(entry))
    searcher = ix.searcher()

    def search(q: str) -> list[str]:
        try:
            query = parse_user_query(q, {"title": 2.0, "body": 1.0})
            literal = literal_queries(q, {"title": 2.0, "body": 1.0})
        except QueryError:
            return []
        return [ids[key] for key, _, _ in run_query(searcher, query, {"all"}, limit=K, literal=literal).page]

    return search


def build_whoosh_default(docs: list[Doc]) -> Search:
    """whoosh's StandardAnalyzer with its MultifieldParser, as a whoosh-era index would do."""
    schema = Schema(id=ID(stored=True, unique=True), title=TEXT(field_boost=2.0), body=TEXT())
    ix = RamStorage().create_index(schema)
    with ix.writer() as w:
        for d in docs:
            w.add_document(id=d["id"], title=d["title"], body=d["body"])
    searcher = ix.searcher()
    parser = qparser.MultifieldParser(["title", "body"], schema)

    def search(q: str) -> list[str]:
        text = re.sub(r"(^|\s)-(?=\S)", r"\1NOT ", q)
        try:
            return [hit["id"] for hit in searcher.search(parser.parse(text), limit=K)]
        except Exception:  # noqa: BLE001 - a parse failure is a miss for this baseline
            return []

    return search


def _fts5_query(q: str) -> str:
    positives: list[str] = []
    negatives: list[str] = []
    tokens = re.findall(r'(-?)"([^"]*)"|(\S+)', q)
    pending_or = False
    for minus, quoted, bare in tokens:
        if bare == "OR":
            pending_or = bool(positives)
            continue
        negated = bool(minus) or (bare.startswith("-") and len(bare) > 1)
        term = quoted or bare.lstrip("-")
        phrase = '"' + term.replace('"', '""') + '"'
        if negated:
            negatives.append(phrase)
        elif pending_or:
            positives[-1] = f"({positives[-1].strip('()')} OR {phrase})"
        else:
            positives.append(phrase)
        pending_or = False
    expr = " AND ".join(positives)
    for n in negatives:
        expr = f"({expr}) NOT {n}"
    return expr


def build_fts5(docs: list[Doc]) -> Search:
    """SQLite FTS5 with the trigram tokenizer (case-insensitive substring matching, ≥ 3 chars)."""
    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE p USING fts5(id UNINDEXED, title, body, tokenize='trigram')")
    con.executemany("INSERT INTO p VALUES (?, ?, ?)", [(d["id"], d["title"], d["body"]) for d in docs])

    def search(q: str) -> list[str]:
        sql = "SELECT id FROM p WHERE p MATCH ? ORDER BY bm25(p, 0.0, 2.0, 1.0) LIMIT ?"
        try:
            return [row[0] for row in con.execute(sql, (_fts5_query(q), K))]
        except sqlite3.OperationalError:
            return []

    return search


# --- measurement ----------------------------------------------------------------------------------
def measure(search: Search, queries: list[dict], judged: list[set[str]]) -> dict:
    """Return mean recall@10, precision@10, MRR overall and per query kind, and per-query rows."""
    rows = []
    for query, rel in zip(queries, judged, strict=True):
        top = search(query["q"])[:K]
        hits = [doc_id in rel for doc_id in top]
        recall = sum(hits) / min(K, len(rel))
        precision = sum(hits) / len(top) if top else 0.0
        mrr = next((1 / (i + 1) for i, h in enumerate(hits) if h), 0.0)
        row = {"q": query["q"], "kind": query["kind"], "relevant": len(rel)}
        rows.append(row | {"recall": recall, "precision": precision, "mrr": mrr})
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_kind[r["kind"]].append(r)

    def mean(rs: list[dict], key: str) -> float:
        return sum(r[key] for r in rs) / len(rs)

    return {
        "recall@10": mean(rows, "recall"),
        "precision@10": mean(rows, "precision"),
        "mrr": mean(rows, "mrr"),
        "by_kind": {k: {m: mean(rs, m) for m in ("recall", "precision", "mrr")} for k, rs in by_kind.items()},
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    """Build the three indexes, run every judged query of both sets, print the tables (or JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print machine-readable figures")
    ap.add_argument("--verbose", action="store_true", help="also print per-query figures")
    ap.add_argument("--set", choices=sorted(QUERY_SETS), action="append", help="only these query sets")
    args = ap.parse_args(argv)

    docs = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    oracle = Oracle(docs)
    sets = {}
    for name in args.set or list(QUERY_SETS):
        queries = json.loads(QUERY_SETS[name].read_text(encoding="utf-8"))["queries"]
        judged = [oracle.relevant(q) for q in queries]
        empty = [q["q"] for q, rel in zip(queries, judged, strict=True) if not rel]
        if empty:
            raise SystemExit(f"{name}: queries without any relevant passage (fix the judgments): {empty}")
        sets[name] = (queries, judged)

    systems = {"project": build_project, "whoosh-default": build_whoosh_default, "fts5-trigram": build_fts5}
    results: dict[str, dict[str, dict]] = {name: {} for name in sets}
    for system, build in systems.items():
        started = time.perf_counter()
        search = build(docs)
        built = time.perf_counter() - started
        for name, (queries, judged) in sets.items():
            started = time.perf_counter()
            figures = measure(search, queries, judged)
            figures["build_s"], figures["query_s"] = built, time.perf_counter() - started
            results[name][system] = figures

    if args.json:
        report = {
            "passages": len(docs),
            "k": K,
            "sets": {name: {"queries": len(sets[name][0]), "systems": results[name]} for name in sets},
        }
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return 0
    print(f"{len(docs)} passages, SQLite {sqlite3.sqlite_version}")
    print("project = index schema + docsearch.query + the engine (the API's path); whoosh-default =")
    print("StandardAnalyzer + MultifieldParser; fts5-trigram = SQLite FTS5 tokenize='trigram'")
    print("recall@10 = relevant in top 10 / min(10, |relevant|); precision@10 = relevant in top 10 / shown")
    for name, (queries, _) in sets.items():
        _print_set(name, queries, results[name], verbose=args.verbose)
    return 0


def _print_set(name: str, queries: list[dict], results: dict[str, dict], *, verbose: bool) -> None:
    print(f"\n== {name}: {len(queries)} judged queries ({QUERY_SETS[name].name})")
    print(f"{'system':<16} {'recall@10':>9} {'prec@10':>8} {'MRR':>6} {'build s':>8} {'query s':>8}")
    for system, f in results.items():
        print(
            f"{system:<16} {f['recall@10']:>9.3f} {f['precision@10']:>8.3f} {f['mrr']:>6.3f}"
            f" {f['build_s']:>8.2f} {f['query_s']:>8.2f}"
        )
    kinds = list(next(iter(results.values()))["by_kind"])
    print("\nrecall@10 / precision@10 by kind of query:")
    print(f"{'kind':<14} {'n':>3}  " + "  ".join(f"{system:>14}" for system in results))
    for kind in kinds:
        n = sum(1 for q in queries if q["kind"] == kind)
        per_kind = [f["by_kind"][kind] for f in results.values()]
        cells = [f"{k['recall']:.2f} / {k['precision']:.2f}" for k in per_kind]
        print(f"{kind:<14} {n:>3}  " + "  ".join(f"{c:>14}" for c in cells))
    if verbose:
        for system, f in results.items():
            print(f"\n{system}")
            for r in f["rows"]:
                figures = f"R={r['recall']:.2f} P={r['precision']:.2f} MRR={r['mrr']:.2f}"
                print(f"  {r['q']:<30} relevant={r['relevant']:>4} {figures}")


if __name__ == "__main__":
    raise SystemExit(main())
