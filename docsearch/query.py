"""The search box's query language: what a user types, split into words and the forms searched.

Engine-neutral: an engine turns the forms into its own queries (the whoosh engine:
``docsearch.engine.whoosh.queries.parse_user_query``).

Syntax (Google-like, forgiving; there are no syntax errors):

* ``令和8年度予算`` – words need no spaces; each word must occur (in any one of the fields).
* ``予算 教育`` – several words: all must occur (AND).
* ``"情報公開"`` – quotes (also “ ”) for an exact phrase: no synonyms, no okurigana folding, and a
  phrase over bigram positions when the index stores positions.
* ``-廃止`` / ``-"…"`` – exclude documents containing the word or phrase.
* ``予算 OR 決算`` – either word; OR binds tighter than the implicit AND (``a b OR c`` = a AND (b OR c)).
* ``*`` and ``?`` are not wildcards: like other punctuation they are ignored.

Synonyms (``docsearch.synonyms``) and the curated okurigana spellings (``docsearch.okurigana``:
取り扱い → also 取扱い, 取扱) widen each word (``clause_forms``).  Literal matches first: the spelling
as typed is the first form of every word, and the engine ranks documents that contain more words as
written before those found only through a synonym or another okurigana spelling, whatever their
BM25 scores.

Abuse limits: a query longer than ``max_chars``, with more than ``max_clauses`` words, or expanding
to more than ``max_terms`` index terms raises ``QueryTooComplex`` before any search work is done;
the check on the length comes first, so every input is handled in bounded time.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from docsearch.analyzer import normalize
from docsearch.okurigana import get_okurigana
from docsearch.synonyms import SynonymTable, get_synonyms

MAX_CHARS = 500
MAX_CLAUSES = 32
MAX_TERMS = 256

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "＂": '"'})
_LEX_RE = re.compile(r'(-?)"([^"]*)(?:"|$)|([^\s"]+)')
_OR_WORDS = frozenset({"OR", "|", "||"})
_PIECE_RE = re.compile(r"[^\W_]+")  # letters, digits and Japanese: what the index can match


class QueryError(ValueError):
    """A query that cannot be searched; ``message_ja`` is shown to the user as is."""

    def __init__(self, message_ja: str) -> None:
        super().__init__(message_ja)
        self.message_ja = message_ja


class QueryTooComplex(QueryError):
    """The query is too long or has too many words or terms (abuse limit)."""


class EmptyQuery(QueryError):
    """Nothing searchable is left (empty, only ``*``/punctuation, or only excluded words)."""


@dataclass(frozen=True)
class Clause:
    """One word or quoted phrase of the user's query, as typed (after NFKC)."""

    text: str
    phrase: bool = False
    negated: bool = False


def split_user_query(
    text: str, *, max_chars: int = MAX_CHARS, max_clauses: int = MAX_CLAUSES
) -> list[list[Clause]]:
    """Return the query as an AND of OR-groups of clauses; negated clauses are groups of their own.

    Raises ``QueryTooComplex`` for more than ``max_chars`` characters or ``max_clauses`` clauses.
    """
    if len(text) > max_chars:
        raise QueryTooComplex(
            f"検索語が長すぎます（{len(text):,}文字）。{max_chars:,}文字以内にしてください。"
        )
    s = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    groups: list[list[Clause]] = []
    pending_or = False
    count = 0
    for m in _LEX_RE.finditer(s):
        minus, quoted, bare = m.groups()
        if bare is not None:
            if bare in _OR_WORDS:
                pending_or = bool(groups) and not groups[-1][0].negated
                continue
            negated = bare.startswith("-") and len(bare) > 1
            clause = Clause(bare.lstrip("-") if negated else bare, False, negated)
            if not clause.text:
                continue
        else:
            clause = Clause(quoted, True, bool(minus))
        count += 1
        if count > max_clauses:
            raise QueryTooComplex(f"検索語が多すぎます。{max_clauses}語以内にしてください。")
        if pending_or and not clause.negated:
            groups[-1].append(clause)
        else:
            groups.append([clause])
        pending_or = False
    return groups


def clause_forms(clause: Clause, synonyms: SynonymTable) -> list[str]:
    """Return the normalised spellings searched for a clause: as typed first, then its synonyms and
    the curated okurigana spellings of each (never a spelling made by stripping kana)."""
    norm = normalize(clause.text)
    if clause.phrase:
        return [norm]
    okurigana = get_okurigana()
    forms = [form for alt in synonyms.expand(norm) for form in okurigana.expand(alt)]
    return list(dict.fromkeys(forms))


def highlight_terms(
    text: str, *, synonyms: SynonymTable | None = None, max_chars: int = MAX_CHARS
) -> list[str]:
    """Return the normalised pieces of text a snippet should mark for this query, longest first.

    Pieces are the runs of letters, digits and Japanese in each positive word or phrase, in its
    synonyms and in its curated okurigana spellings.  Excluded words are not marked.  Returns
    ``[]`` for a query that cannot be parsed (never raises).
    """
    table = synonyms if synonyms is not None else get_synonyms()
    try:
        groups = split_user_query(text, max_chars=max_chars)
    except QueryError:
        return []
    pieces: dict[str, None] = {}
    for group in groups:
        for clause in group:
            if clause.negated:
                continue
            for form in clause_forms(clause, table):
                for piece in _PIECE_RE.findall(form):
                    pieces[piece] = None
    return sorted(pieces, key=len, reverse=True)
