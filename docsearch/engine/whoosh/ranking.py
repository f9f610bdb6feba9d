"""Relevance scores of a segment's matching documents, computed with numpy for all of them at once.

The score (what results are ranked by and the API returns) is whoosh's BM25F over the terms of the
user's query only; the caller's permission tokens and the filters select documents but do not
score.  For a term of a scorable field, in one document::

    boost × idf × tf·(K1 + 1) / (tf + K1·((1 − B) + B·fl / avgfl))

with whoosh's statistics over the whole index (``Searcher.idf``: log(N / (df + 1)) + 1;
``Searcher.avg_field_length``), ``fl`` the field length as whoosh stores it (rounded to one byte)
and ``B``/``K1`` those of the searcher's ``BM25F`` weighting (whoosh's defaults 0.75 / 1.2).  The
boost is the field's (title 2.0, body 1.0: ``parse_user_query``).  ``And`` and ``Or`` add up the
scores of their matching subqueries, ``AndNot`` scores its positive side, a ``Phrase`` adds up the
scores of its words – each times its own boost, as whoosh's matchers do.  Which subqueries match a
document comes from the masks ``docsearch.engine.whoosh.docsets.query_mask`` recorded while matching.

whoosh computes the same numbers one document at a time in Python (tens of milliseconds per
10,000 matches); here each term costs a few vector operations over the candidates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.scoring import BM25F
from whoosh.searching import Searcher

from docsearch.engine.whoosh.docsets import Mask, field_lengths, matched_positions, query_mask, term_postings


def scores(
    top: Searcher, leaf: Searcher, user_query: wq.Query, docs: np.ndarray, memo: dict[int, Mask]
) -> np.ndarray:
    """Return the score of ``user_query`` for each of ``docs`` (document numbers of ``leaf``).

    ``top`` is the searcher over the whole index (global statistics); ``memo`` the node masks from
    matching the full query on ``leaf``.
    """
    if len(docs) > 1 and (docs[1:] < docs[:-1]).any():  # a page in date order: score it sorted
        order = np.argsort(docs, kind="stable")
        result = np.empty(len(docs), dtype=np.float64)
        result[order] = _Scorer(top, leaf, docs[order], memo).node(user_query)
        return result
    return _Scorer(top, leaf, docs, memo).node(user_query)


class _Scorer:
    def __init__(self, top: Searcher, leaf: Searcher, docs: np.ndarray, memo: dict[int, Mask]) -> None:
        self.top = top
        self.leaf = leaf
        self.reader = leaf.reader()
        self.docs = docs
        self.memo = memo
        self.weighting = top.weighting
        self.terms: dict[tuple[str, Any], np.ndarray] = {}

    def node(self, q: wq.Query) -> np.ndarray:
        kind = type(q)
        if not isinstance(self.weighting, BM25F):
            return self._matcher_scores(q)
        if kind is wq.Term:
            found = self.term(q.fieldname, q.text)
            return found * q.boost if q.boost != 1.0 else found
        if kind is wq.And or kind is wq.Or:
            total = np.zeros(len(self.docs), dtype=np.float64)
            for sub in q.subqueries:
                total += self.node(sub)
        elif kind is wq.AndNot:
            total = self.node(q.a)
        elif kind is wq.Phrase:
            total = np.zeros(len(self.docs), dtype=np.float64)
            for word in q.words:
                total += self.term(q.fieldname, word)
        else:
            return self._matcher_scores(q)
        if q.boost != 1.0:
            total = total * q.boost
        # A compound or phrase scores only where it matches as a whole.
        return np.where(self._matched(q), total, 0.0)

    def _matched(self, q: wq.Query) -> Mask:
        mask = self.memo.get(id(q))
        if mask is None:  # not evaluated while matching (cannot happen for a non-empty result)
            mask = query_mask(self.leaf, q)
        return mask[self.docs]

    def term(self, fieldname: str, text: Any) -> np.ndarray:
        key = (fieldname, text)
        cached = self.terms.get(key)
        if cached is not None:
            return cached
        out = np.zeros(len(self.docs), dtype=np.float64)
        postings = term_postings(self.reader, fieldname, text)
        if len(postings.ids) and len(self.docs):
            pos = np.searchsorted(postings.ids, self.docs)
            np.minimum(pos, len(postings.ids) - 1, out=pos)
            hit = postings.ids[pos] == self.docs
            tf = postings.weights[pos[hit]]
            field = self.top.schema[fieldname]
            if not field.scorable:  # whoosh's WeightScorer: the posting weight itself
                out[hit] = tf
            else:
                w = self.weighting
                b = w._field_B.get(fieldname, w.B)
                k1 = w.K1
                idf = self.top.idf(fieldname, text)
                avgfl = self.top.avg_field_length(fieldname) or 1
                fl = field_lengths(self.reader, fieldname)[self.docs[hit]]
                # The operations and their order of whoosh.scoring.bm25, so the floats are equal.
                out[hit] = idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl)))
        self.terms[key] = out
        return out

    def _matcher_scores(self, q: wq.Query) -> np.ndarray:
        """Scores from whoosh's own matcher (a query kind the vector path does not know)."""
        out = np.zeros(len(self.docs), dtype=np.float64)
        matcher = q.matcher(self.leaf, self.leaf.context())
        for i in matched_positions(matcher, self.docs.tolist()):
            out[i] = matcher.score()
        return out
