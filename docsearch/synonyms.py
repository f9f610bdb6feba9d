"""The editable synonym list: loading ``synonyms.txt`` and expanding query words with it.

Synonyms are expanded at query time only (マイナンバーカード → also 個人番号カード and back), so an
edit to the list takes effect on the next search without reindexing.  ``get_synonyms(path)`` caches
the parsed file and re-reads it when its modification time changes; the application passes the
path from its configuration (suggested key ``WORKSPACE_SEARCH_SYNONYMS``), or None for the bundled
``docsearch/synonyms.txt``.  File format: see the header of that file.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path

from docsearch.analyzer import normalize

DEFAULT_SYNONYMS_PATH = Path(__file__).with_name("synonyms.txt")
_SEPARATORS_RE = re.compile(r"[,、，]")
_WORD_EDGE = "0-9a-z"


class SynonymTable:
    """Groups of interchangeable spellings, all in normalised form (see ``analyzer.normalize``)."""

    def __init__(self, groups: Iterable[Iterable[str]]) -> None:
        self.groups: list[tuple[str, ...]] = []
        self._group_of: dict[str, tuple[str, ...]] = {}
        for raw_group in groups:
            group = tuple(dict.fromkeys(w for w in (normalize(x).strip() for x in raw_group) if w))
            if len(group) < 2:
                continue
            self.groups.append(group)
            for word in group:
                # A word listed in two groups gets the union, so expansion stays symmetric.
                merged = self._group_of.get(word, ()) + group
                self._group_of[word] = tuple(dict.fromkeys(merged))
        words = sorted(self._group_of, key=len, reverse=True)  # longest spelling wins
        self._pattern = re.compile("|".join(_bounded(w) for w in words)) if words else None

    @classmethod
    def from_text(cls, text: str) -> SynonymTable:
        """Return the table parsed from the text of a synonyms file (one group per line)."""
        groups = []
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                groups.append(_SEPARATORS_RE.split(line))
        return cls(groups)

    def expand(self, normalized_word: str, *, limit: int = 8) -> list[str]:
        """Return ``normalized_word`` followed by its spellings with synonyms substituted.

        Every listed spelling found inside the word is replaced by each member of its group, so
        マイナンバーカードの交付 also yields 個人番号カードの交付.  At most ``limit`` results.
        """
        if self._pattern is None:
            return [normalized_word]
        results = [""]
        last = 0
        for m in self._pattern.finditer(normalized_word):
            prefix = normalized_word[last : m.start()]
            members = self._group_of[m.group()]
            ordered = (m.group(), *(w for w in members if w != m.group()))
            results = [r + prefix + alt for r in results for alt in ordered][:limit]
            last = m.end()
        tail = normalized_word[last:]
        return [r + tail for r in results]


def _bounded(word: str) -> str:
    # A Latin spelling (ai, dx) must not match inside a longer Latin word (mail, dxf).
    pattern = re.escape(word)
    if word[0] in "0123456789abcdefghijklmnopqrstuvwxyz":
        pattern = f"(?<![{_WORD_EDGE}])" + pattern
    if word[-1] in "0123456789abcdefghijklmnopqrstuvwxyz":
        pattern += f"(?![{_WORD_EDGE}])"
    return pattern


def load_synonyms(path: str | os.PathLike[str] | None = None) -> SynonymTable:
    """Return the synonym table read from ``path`` (UTF-8; default: the bundled synonyms.txt).

    Raises ``OSError`` when the file cannot be read and ``UnicodeDecodeError`` when it is not UTF-8.
    """
    target = Path(path) if path is not None else DEFAULT_SYNONYMS_PATH
    return SynonymTable.from_text(target.read_text(encoding="utf-8-sig"))


_cache: dict[Path, tuple[int, SynonymTable]] = {}
_cache_lock = threading.Lock()


def get_synonyms(path: str | os.PathLike[str] | None = None) -> SynonymTable:
    """Return the table for ``path`` (or the bundled file), re-reading it when the file changed.

    Raises ``OSError`` when the file cannot be read.
    """
    target = Path(path) if path is not None else DEFAULT_SYNONYMS_PATH
    mtime = target.stat().st_mtime_ns
    with _cache_lock:
        cached = _cache.get(target)
        if cached is not None and cached[0] == mtime:
            return cached[1]
    table = load_synonyms(target)
    with _cache_lock:
        _cache[target] = (mtime, table)
    return table
