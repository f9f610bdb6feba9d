"""The whoosh engine's fast path and whoosh's public API give the same hits, totals and facets; another
whoosh release turns the fast path off with a warning.

Each index is searched twice through the engine interface (``SearchEngine.search``): once on the fast
path (``matching.run_query``: numpy over the posting blocks) and once on the public path
(``public.run_query``: ``Searcher.search(..., filter=...)``), with ACL tokens, filters, both sorts and
several pages.  One index is written by the fast writers (bulk segments, then whoosh's writer with
updates and deletions), the other entirely through whoosh's public writer and encoders, as the engine
writes when the installed whoosh is not the tested release.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import whoosh

from docsearch.engine import Filters, Hits, Page, SearchEngine
from docsearch.engine.whoosh import version
from docsearch.engine.whoosh.bulkwriter import BulkSegmentWriter
from docsearch.engine.whoosh.engine import WhooshEngine
from docsearch.synonyms import get_synonyms
from tests.docsearch.synthetic import entries

FIELDS = {"title": 2.0, "body": 1.0}
QUERIES = [
    "予算",
    "村",
    "情報公開 請求",
    '"住民基本台帳"',
    "補助金 OR 交付金",
    "公文書 -廃棄",
    "取り扱い",  # okurigana spellings: the literal tier orders the page
    "wifi",
    "存在しない語",
]
CALLERS = [{"all", "user:17", "dept:03"}, {"all", "role:records"}, {"user:5"}]
FILTERS = [
    Filters(),
    Filters(type="document"),
    Filters(fiscal_year=2025),
    Filters(department="03", visibility="public"),
    Filters(date_from=20250101, date_to=20251231),
    Filters(type="message", date_from=20241001),
]
PAGES = [Page(0, 1000), Page(7, 5)]  # every hit in order; a page further on
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def other_whoosh_release(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The installed whoosh claims another release (a library fact, so patching it is fair)."""
    monkeypatch.setattr(whoosh, "__version__", (2, 7, 6))
    version.fast_path.cache_clear()
    yield
    monkeypatch.undo()
    version.fast_path.cache_clear()


def _build(engine: WhooshEngine) -> None:
    """Several bulk segments, then whoosh's writer: more documents, deletions and an update."""
    docs = entries(700)
    engine.rebuild([docs[i : i + 100] for i in range(0, 600, 100)])
    engine.replace({entry.key: entry for entry in docs[600:]})
    engine.replace({entry.key: None for entry in docs[::7]})
    docs[3].body = "予算の補正 取扱"
    engine.update(docs[3])
    engine.remove(docs[5].key)


@pytest.fixture(scope="module")
def fast_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fast") / "index"
    engine = WhooshEngine(path, limitmb=1, fast=True)  # a small limit: several segments
    assert engine.fast
    _build(engine)
    return path


@pytest.fixture(scope="module")
def public_built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("public") / "index"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(whoosh, "__version__", (2, 7, 6))
        version.fast_path.cache_clear()
        try:
            engine = WhooshEngine(path)
            assert not engine.fast
            _build(engine)  # whoosh's writer and its own posting encoders throughout
        finally:
            patch.undo()
            version.fast_path.cache_clear()
    yield path


def _searches(engine: SearchEngine, text: str, pages: list[Page] = PAGES) -> Iterator[tuple[tuple, Hits]]:
    query = engine.query(text, FIELDS, get_synonyms())
    for i, acl in enumerate(CALLERS):
        for j, filters in enumerate(FILTERS):
            for sort in ("relevance", "date"):
                for page in pages:
                    yield (i, j, sort, page), engine.search(query, acl, filters, sort, page)


def _same(fast: Hits, public: Hits, case: tuple) -> None:
    assert [m.key for m in fast.matches] == [m.key for m in public.matches], case
    assert fast.total == public.total, case
    assert fast.facets == public.facets, case
    assert [m.literal for m in fast.matches] == [m.literal for m in public.matches], case
    assert [m.score for m in fast.matches] == pytest.approx([m.score for m in public.matches], rel=1e-9)
    assert [m.stored for m in fast.matches] == [m.stored for m in public.matches], case


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("built", ["fast_built", "public_built"])
def test_fast_path_and_public_api_find_the_same(
    text: str, built: str, request: pytest.FixtureRequest
) -> None:
    """Do both paths give the same hits (keys in order, scores), totals and facet counts"""
    path = request.getfixturevalue(built)
    fast, public = WhooshEngine(path, fast=True), WhooshEngine(path, fast=False)
    found_any = False
    for (case, by_fast), (_, by_public) in zip(_searches(fast, text), _searches(public, text), strict=True):
        _same(by_fast, by_public, (text, *case))
        found_any = found_any or by_fast.total > 0
    assert found_any or text == "存在しない語"


@pytest.mark.parametrize("text", QUERIES)
def test_both_writers_index_the_same_entries(text: str, fast_built: Path, public_built: Path) -> None:
    """Does an index written by whoosh's own writer and encoders match what the fast writers wrote"""
    fast, public = WhooshEngine(fast_built, fast=True), WhooshEngine(public_built, fast=True)
    assert fast.stats().entries == public.stats().entries
    every = [Page(0, 1000)]
    for (case, a), (_, b) in zip(_searches(fast, text, every), _searches(public, text, every), strict=True):
        assert (a.total, a.facets) == (b.total, b.facets), (text, *case)
        # The same entries (equal scores may be ordered apart: the document numbers differ).
        assert sorted(m.key for m in a.matches) == sorted(m.key for m in b.matches), (text, *case)


def test_other_whoosh_release_falls_back_to_the_public_api_with_a_warning(
    other_whoosh_release: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With a whoosh release other than the tested one, is a warning logged and are rebuilds and
    searches done by whoosh's public API (and still right)"""
    with caplog.at_level(logging.WARNING, logger=version.__name__):
        engine = WhooshEngine(tmp_path / "index")
    assert not engine.fast
    assert "2.7.6" in caplog.text and version.TESTED_WHOOSH_VERSION in caplog.text
    with engine.writer(bulk=True) as writer:
        assert not isinstance(writer, BulkSegmentWriter)  # whoosh's own writer
    docs = entries(60)
    assert engine.rebuild([docs]) == 60
    query = engine.query("予算", FIELDS, get_synonyms())
    found = engine.search(query, {"all"}, Filters(type="document"), "date", Page(0, 100))
    assert found.total == len(found.matches) > 0
    assert all(m.stored["type"] == "document" for m in found.matches)
    on_fast_path = WhooshEngine(tmp_path / "index", fast=True)
    assert found == on_fast_path.search(query, {"all"}, Filters(type="document"), "date", Page(0, 100))
    dates = [m.stored["date"] for m in found.matches]
    assert dates == sorted(dates, reverse=True)


def test_the_tested_release_keeps_the_fast_path(caplog: pytest.LogCaptureFixture) -> None:
    """Is the installed (pinned) whoosh the tested one, so the fast path runs without a warning"""
    with caplog.at_level(logging.WARNING, logger=version.__name__):
        assert version.check()
    assert not caplog.records
    assert WhooshEngine(Path("unused"), fast=None).fast


def test_pyproject_pins_the_tested_release_exactly() -> None:
    """Does pyproject.toml require exactly the whoosh-reloaded release the fast paths are tested against"""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = [d for d in project["dependencies"] if d.lower().startswith("whoosh-reloaded")]
    assert pins == [f"whoosh-reloaded=={version.TESTED_WHOOSH_VERSION}"]
