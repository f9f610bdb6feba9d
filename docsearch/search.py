"""One search for everything the caller may open: documents, approval requests, chat messages.

Permission trimming happens inside the search engine (``docsearch.engine``): it is given the
caller's ``acl`` tokens with the query, so the hits, the total, the facet counts and the snippets
are all computed over what the caller may open, and nothing else.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select

from approvals import indexing as approval_reads
from chat import indexing as chat_reads
from docsearch import grouping
from docsearch.engine import Filters, Hits, Match, Page, SearchTimeout
from docsearch.errors import DocumentError
from docsearch.indexer import get_index, ready_index
from docsearch.models import Document
from docsearch.permissions import approval_acl, message_acl, search_tokens
from docsearch.query import (
    EmptyQuery,
    QueryError,
    QueryTooComplex,
    split_user_query,
)
from docsearch.snippet import snippet
from docsearch.sources import STATUS_LABELS
from docsearch.synonyms import get_synonyms
from docsearch.variants import ITAIJI, ITAIJI_TARGETS
from workspace import calendar, db, inputs
from workspace.models import User

TYPES = ("document", "approval", "message")
FIELDS = {"title": 2.0, "body": 1.0}
MAX_LIMIT = 100
MAX_OFFSET = 10_000
_SPACES_RE = re.compile(r"\s+")


@dataclass
class Hit:
    """One result row of the API."""

    type: str
    id: int
    title: str
    snippet: str
    score: float
    url: str
    extra: dict[str, Any] = field(default_factory=dict)
    #: The text the snippet was cut from (not part of the JSON).
    text: str = field(default="", repr=False)

    def json(self) -> dict[str, Any]:
        """The documented result shape (plus the extra fields of its type)."""
        return {
            "type": self.type,
            "id": self.id,
            "title": self.title,
            "snippet": self.snippet,
            "score": self.score,
            "url": self.url,
            **self.extra,
        }


@dataclass
class SearchResult:
    """A page of hits, the trimmed total and facet counts."""

    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    #: The offset of the next page (rows of one 決裁 merged into one hit use up several), or None.
    next_offset: int | None = None

    def json(self) -> dict[str, Any]:
        """The documented response body of GET /api/v1/search."""
        return {
            "total": self.total,
            "results": [h.json() for h in self.hits],
            "facets": self.facets,
            "next_offset": self.next_offset,
        }


def _int(value: Any, name: str, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    if inputs.parse_int(value, -inputs.ID_MAX, inputs.ID_MAX) is None:
        raise DocumentError(400, f"{name} は整数（半角数字）で指定してください。")
    number = int(value)
    if not low <= number <= high:
        raise DocumentError(400, f"{name} は {low}〜{high} の範囲で指定してください。")
    return number


def build_filters(params: dict[str, Any]) -> Filters:
    """Return the filters for type, 年度, 課, 分類, 秘区分 and a date range; raise DocumentError(400)."""
    kind = params.get("type") or ""
    if kind and kind not in TYPES:
        raise DocumentError(400, "type は document・approval・message のいずれかです。")
    year = None
    if params.get("fiscal_year"):
        year = _int(params["fiscal_year"], "fiscal_year", 0, 1900, 2200)
    return Filters(
        type=kind,
        fiscal_year=year,
        department=str(params["department"])[:32] if params.get("department") else "",
        classification=str(params["classification"])[:32] if params.get("classification") else "",
        visibility=str(params["visibility"])[:16] if params.get("visibility") else "",
        date_from=_yyyymmdd(params.get("date_from") or None),
        date_to=_yyyymmdd(params.get("date_to") or None),
    )


def _yyyymmdd(value: str | None) -> int | None:
    if not value:
        return None
    digits = str(value).replace("-", "")
    if len(digits) != 8 or not digits.isdigit():
        raise DocumentError(400, "日付は YYYY-MM-DD の形式で指定してください。")
    return int(digits)


def search(user: User, params: dict[str, Any]) -> SearchResult:
    """Search the unified index for user; params are the API's query parameters.

    Raises DocumentError: 400 for bad parameters or an empty query, 422 for a query over the
    abuse limits, 503 when the search runs out of time.
    """
    text = str(params.get("q") or "")
    limit = _int(params.get("limit"), "limit", 20, 1, MAX_LIMIT)
    offset = _int(params.get("offset"), "offset", 0, 0, MAX_OFFSET)
    sort = params.get("sort") or "relevance"
    if sort not in ("relevance", "date"):
        raise DocumentError(400, "sort は relevance か date です。")
    synonyms = get_synonyms(current_app.config.get("SEARCH_SYNONYMS") or None)
    try:
        query = get_index().query(text, FIELDS, synonyms)
    except QueryTooComplex as error:
        raise DocumentError(422, error.message_ja, "query_too_complex") from None
    except EmptyQuery as error:
        raise DocumentError(400, error.message_ja, "empty_query") from None
    except QueryError as error:
        raise DocumentError(400, error.message_ja, "bad_query") from None
    tokens = search_tokens(user)
    filters = build_filters(params)
    try:
        found = ready_index().search(
            query,
            tokens,
            filters,
            sort,
            # More rows than shown: the rows of one 決裁 (request, record, attachments) become one hit.
            Page(offset=offset, limit=min(limit * 2, MAX_LIMIT * 2)),
            time_limit=float(current_app.config.get("SEARCH_TIME_LIMIT", 5.0)),
        )
    except SearchTimeout:
        raise DocumentError(
            503, "検索に時間がかかりすぎました。語を増やすか条件で絞り込んでください。", "search_timeout"
        ) from None
    filings = _page_filings(found.matches)
    hits = _as_written_first(_hits(found.matches, text, synonyms, tokens, filings), found, text)
    shown, merged, used = _one_hit_per_decision(hits, filings, user, tokens, limit)
    facets = found.facets
    for hit in merged:  # counted as the hit they were merged into
        for name, value in (
            ("type", hit.type),
            ("fiscal_year", hit.extra.get("fiscal_year")),
            ("department", hit.extra.get("department")),
        ):
            counts = facets.get(name, {})
            key = str(value) if value is not None else None
            if key in counts:
                counts[key] -= 1
                if counts[key] <= 0:
                    del counts[key]
    total = max(found.total - len(merged), len(shown))
    consumed = offset + (used if used < len(hits) else len(found.matches))
    next_offset = consumed if consumed < found.total else None
    return SearchResult(total=total, hits=shown, facets=facets, next_offset=next_offset)


def _page_filings(page: list[Match]) -> grouping.Filings:
    ids: dict[str, list[int]] = {"document": [], "approval": []}
    for match in page:
        kind, _, raw_id = match.key.partition(":")
        if kind in ids:
            ids[kind].append(int(raw_id))
    return grouping.filings_for(ids["document"], ids["approval"])


def _one_hit_per_decision(
    hits: list[Hit], filings: grouping.Filings, user: User, tokens: set[str], limit: int
) -> tuple[list[Hit], list[Hit], int]:
    """Merge the rows of one request into one hit; return (the first ``limit`` hits, the rows merged
    away, how many rows of ``hits`` were used).

    The merged hit is the request's own row when it is on the page (else its filed record, else the
    best-ranked attachment), at the place of the best-ranked row of the group, with its own snippet
    (or, when its text lacks the words, that of a row of the group which has them), and
    ``filed`` links to the record and each attachment (``approval`` too, on a document's row).
    """
    groups: dict[int, list[Hit]] = {}
    order: list[Hit | int] = []  # a hit of its own, or the request id of a group
    used = 0
    for hit in hits:
        request_id = grouping.group_key(hit.type, hit.id, filings)
        if request_id is None:
            if len(order) >= limit:
                break
            order.append(hit)
        elif request_id in groups:
            groups[request_id].append(hit)
        else:
            if len(order) >= limit:
                break
            groups[request_id] = [hit]
            order.append(request_id)
        used += 1
    shown: list[Hit] = []
    merged: list[Hit] = []
    for item in order:
        if isinstance(item, Hit):
            shown.append(item)
            continue
        members = groups[item]
        own = next((h for h in members if h.type == "approval"), None) or next(
            (h for h in members if h.type == "document" and filings.is_record(h.id)), members[0]
        )
        if "<mark>" not in own.snippet:  # the words are in another row of the group only
            own.snippet = next((h.snippet for h in members if "<mark>" in h.snippet), own.snippet)
        own.extra["filed"] = grouping.filed_links(item, filings, user)
        if own.type == "document":
            own.extra["approval"] = grouping.approval_link(item, filings, tokens)
        shown.append(own)
        merged.extend(h for h in members if h is not own)
    return shown, merged, used


def _written_words(text: str) -> list[str]:
    """Return the query's positive words as typed (NFKC, case-folded) when 旧字体 folding touches
    them, else ``[]``: the index folds 國 and 国 alike, so only the stored text can tell them apart."""
    try:
        groups = split_user_query(text)
    except QueryError:
        return []
    words = [_fold_width(c.text) for g in groups if not g[0].negated for c in g]
    if not any(ch in ITAIJI or ch in ITAIJI_TARGETS for word in words for ch in word):
        return []
    return [w for w in words if w]


def _fold_width(text: str) -> str:
    return _SPACES_RE.sub("", unicodedata.normalize("NFKC", text).casefold())


def _as_written_first(hits: list[Hit], found: Hits, text: str) -> list[Hit]:
    """Order the page so that, among rows with as many words as written (``Match.literal``), those
    whose stored text has the query's 旧字体 or 新字体 exactly as typed come first (stable otherwise).

    The index cannot do this itself (it folds 國 to 国 in documents and queries alike), so it is done
    on the page, whose titles and bodies are at hand.
    """
    words = _written_words(text)
    if not words:
        return hits
    tiers = {match.key: match.literal for match in found.matches}

    def rank(hit: Hit) -> tuple[int, int]:
        raw = _fold_width(hit.title + "\n" + hit.text)
        return (-tiers.get(f"{hit.type}:{hit.id}", 0), -sum(w in raw for w in words))

    return sorted(hits, key=rank)


def _hits(
    page: list[Match],
    text: str,
    synonyms: Any,
    tokens: set[str],
    filings: grouping.Filings,
) -> list[Hit]:
    """Turn index hits into result rows; titles and snippets come from the database.

    An object changed since its entry was written (a message deleted, an approval's route changed,
    a document disposed) is checked again against its current state and left out if the caller
    may no longer open it: the outbox corrects the index itself on its next drain.
    """
    wanted: dict[str, list[int]] = {}
    for match in page:
        kind, _, raw_id = match.key.partition(":")
        wanted.setdefault(kind, []).append(int(raw_id))
    docs = {}
    if wanted.get("document"):
        docs = {
            d.id: d
            for d in db.session()
            .execute(select(Document).where(Document.id.in_(wanted["document"])))
            .scalars()
        }
    approvals = approval_reads.requests_for_index(wanted.get("approval", []))
    messages = chat_reads.messages_for_index(wanted.get("message", []))
    hits: list[Hit] = []
    for match in page:
        kind, _, raw_id = match.key.partition(":")
        score, stored = match.score, match.stored
        object_id = int(raw_id)
        extra: dict[str, Any] = {
            "fiscal_year": int(stored["fiscal_year"]) if stored.get("fiscal_year") else None,
            "department": stored.get("department") or None,
            "date": _iso_day(stored.get("date")),
        }
        if kind == "document":
            doc = docs.get(object_id)
            if doc is None:  # disposed since the index was written; the outbox will remove it
                continue
            version = doc.current_version
            body = version.file.text if version else ""
            request = filings.requests.get(filings.request_of_document.get(object_id, 0))
            if request is not None and filings.is_record(object_id):
                # The filed 起案用紙's text begins with the form's printed labels (件名, 起案者,
                # 決裁欄 …); the snippet is cut from the request's body, which the record prints.
                body = request.body
            title, url = stored.get("title", ""), f"/documents/{object_id}"
            extra["document_number"] = doc.document_number
        elif kind == "approval":
            request = approvals.get(object_id)
            if request is None or not tokens & set(approval_acl(request)):
                continue
            body, title, url = request.body, request.title, f"/approvals/{object_id}"
            extra["document_number"] = request.document_number
            extra["status"] = request.status
            extra["status_label"] = STATUS_LABELS.get(request.status, request.status)
        elif kind == "message":
            message = messages.get(object_id)
            if message is None or message.deleted or not tokens & set(message_acl(message)):
                continue
            body, title = message.body, f"{_channel_label(message)}・{message.author_name}"
            url = f"/chat/?channel={message.channel_id}#message-{object_id}"
            extra["channel_id"] = message.channel_id
            extra["author"] = message.author_name
            extra["created_at"] = calendar.isoformat(message.created_at)
        else:  # an entry of a kind this version does not know: never shown
            continue
        hits.append(
            Hit(
                type=kind,
                id=object_id,
                title=title,
                snippet=snippet(body, text, synonyms=synonyms),
                score=round(float(score), 4),
                url=url,
                extra=extra,
                text=body,
            )
        )
    return hits


def _iso_day(yyyymmdd: Any) -> str | None:
    """The index's yyyymmdd date as YYYY-MM-DD (None when missing)."""
    if not yyyymmdd:
        return None
    digits = f"{int(yyyymmdd):08d}"
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"


def _channel_label(message: chat_reads.IndexableMessage) -> str:
    if message.channel_kind == "direct":
        return "ダイレクトメッセージ"
    return f"#{message.channel_name}" if message.channel_name else "チャット"
