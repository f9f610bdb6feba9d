"""HTML snippets with the matched Japanese text marked, for search results.

whoosh's highlighter works on analyzed tokens and their character offsets; bigram tokens overlap
and normalisation changes offsets (NFKC, removed long-vowel marks …), so it cannot mark Japanese
matches properly.  Instead the stored text is normalised with an offset map
(``analyzer.normalize_with_offsets``), the query's pieces (``query.highlight_terms``) are found in
the normalised text – each curated okurigana spelling is a piece of its own – and the spans are
mapped back to the original text.  Everything is HTML-escaped except the ``<mark>`` tags we add.
"""

from __future__ import annotations

import html
import re

from docsearch.analyzer import normalize_with_offsets
from docsearch.query import highlight_terms
from docsearch.synonyms import SynonymTable

_LATIN_EDGE = "0-9a-z"
_SPACES_RE = re.compile(r"\s+")
ELLIPSIS = "…"


def _piece_pattern(piece: str) -> str:
    # Okurigana spellings are pieces of their own (``query.highlight_terms``): no kana is skipped.
    pattern = re.escape(piece)
    if piece[0].isascii() and piece[0].isalnum():
        pattern = f"(?<![{_LATIN_EDGE}])" + pattern
    if piece[-1].isascii() and piece[-1].isalnum():
        pattern += f"(?![{_LATIN_EDGE}])"
    return pattern


def highlight_spans(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Return the sorted, merged ``(start, end)`` spans of ``text`` that match any normalised piece."""
    if not pieces:
        return []
    norm, spans = normalize_with_offsets(text)
    pattern = re.compile("|".join(_piece_pattern(p) for p in sorted(pieces, key=len, reverse=True)))
    found: list[tuple[int, int]] = []
    for m in pattern.finditer(norm):
        if m.end() > m.start():
            start, end = spans[m.start()][0], spans[m.end() - 1][1]
            if found and start <= found[-1][1]:
                found[-1] = (found[-1][0], max(end, found[-1][1]))
            else:
                found.append((start, end))
    return found


def _display(segment: str) -> str:
    return html.escape(_SPACES_RE.sub(" ", segment), quote=True)


def snippet(text: str, query_text: str, length: int = 120, *, synonyms: SynonymTable | None = None) -> str:
    """Return an HTML excerpt of about ``length`` characters of ``text`` around the first match of
    ``query_text``, with matches wrapped in ``<mark>``; all text is HTML-escaped.

    Without a match, the beginning of the text is returned.  ``…`` marks a cut.  Never raises for
    a query the parser rejects (the excerpt is then unmarked).
    """
    spans = highlight_spans(text, highlight_terms(query_text, synonyms=synonyms))
    start = 0
    if spans:
        start = max(0, min(spans[0][0] - length // 4, len(text) - length))
    end = min(len(text), start + length)
    out = [ELLIPSIS] if start > 0 else []
    cursor = start
    for a, b in spans:
        a, b = max(a, start), min(b, end)
        if a >= b:
            continue
        out.append(_display(text[cursor:a]))
        out.append("<mark>" + _display(text[a:b]) + "</mark>")
        cursor = b
    out.append(_display(text[cursor:end]))
    if end < len(text):
        out.append(ELLIPSIS)
    return "".join(out)
