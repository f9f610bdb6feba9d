"""The search engine behind an interface: ``SearchEngine`` and its types (``docsearch.engine.base``).

The registry, unified search, filing, the indexer and the API use only what this package exports;
the whoosh implementation (``docsearch.engine.whoosh``) is chosen by ``create_engine``.  See
README.md in this folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from docsearch.engine.base import (
    FACETS,
    Filters,
    Hits,
    IndexBusy,
    IndexEntry,
    Match,
    Page,
    Progress,
    Query,
    SearchEngine,
    SearchTimeout,
    Sort,
    Stats,
    entry_key,
)
from docsearch.engine.whoosh.engine import WhooshEngine

__all__ = [
    "FACETS",
    "Filters",
    "Hits",
    "IndexBusy",
    "IndexEntry",
    "Match",
    "Page",
    "Progress",
    "Query",
    "SearchEngine",
    "SearchTimeout",
    "Sort",
    "Stats",
    "create_engine",
    "entry_key",
]


def create_engine(config: Mapping[str, Any]) -> SearchEngine:
    """Return the engine an app's configuration asks for: the whoosh index in SEARCH_INDEX_DIR
    (default DATA_DIR/index)."""
    path = Path(config.get("SEARCH_INDEX_DIR") or Path(config["DATA_DIR"]) / "index")
    return WhooshEngine(
        path,
        lock_timeout=float(config.get("SEARCH_LOCK_TIMEOUT", 10.0)),
        limitmb=int(config.get("SEARCH_INDEX_LIMITMB", 256)),
    )
