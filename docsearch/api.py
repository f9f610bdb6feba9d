"""The docsearch JSON API under /api/v1: documents, their files and versions, retention, search."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, jsonify, request, send_file
from flask_login import current_user

from docsearch import classifications, disposal_approval, files, registry, retention, search
from docsearch.errors import DocumentError
from docsearch.models import Document
from workspace import inputs
from workspace.web import ApiError, api_blueprint, api_login_required, json_body

bp = api_blueprint("docsearch_api", __name__)


def _upload() -> tuple[Any, str]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(400, "ファイル（file）を添付してください。")
    return upload.stream, upload.filename


@bp.post("/documents")
@api_login_required
def create_document() -> Any:
    """Register a document: multipart file + metadata fields → 201 with the document.
    ---
    post:
      summary: Register a document (file and 文書 metadata) in a 課 the caller may register for
      tags: [documents]
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file, title, department_code, fiscal_year, visibility, retention_years]
              properties:
                file: {type: string, format: binary}
                title: {type: string, minLength: 1, maxLength: 300, pattern: '\\S'}
                department_code: {type: string, minLength: 1, maxLength: 32, description: an existing 課}
                fiscal_year: {type: integer, minimum: 1900, maximum: 2200}
                visibility: {type: string, enum: [public, internal, department, secret]}
                retention_years: {type: string, enum: ['1', '3', '5', '10', '30', permanent]}
                classification: {type: string, maxLength: 32, description: an existing 文書分類 code}
                received_on: {type: string, format: date}
                tags: {type: string, description: comma separated}
      responses:
        201: {description: 'the document, as GET /documents/{doc_id} answers'}
        400: {description: no file}
        403: {description: the caller may not register documents of this 課}
        413: {description: larger than the upload limit}
        415: {description: 'a file type the registry does not hold, or one that contradicts its name'}
        422: {description: 'missing or invalid metadata (件名, 課, 年度, 秘区分, 保存年限, 分類), an empty or
          corrupt file'}
    """
    stream, filename = _upload()
    doc = registry.register(current_user, request.form.to_dict(), stream, filename)
    return jsonify(registry.document_json(doc)), 201


@bp.get("/documents/<int:doc_id>")
@api_login_required
def get_document(doc_id: int) -> Any:
    """Return one document the caller may see (404 otherwise).
    ---
    get:
      summary: One document with its versions, retention and 決裁 link
      tags: [documents]
      responses:
        200: {description: '{"id", "title", "department", "fiscal_year", "visibility", "versions", …}'}
    """
    return jsonify(registry.document_json(registry.get_for(current_user, doc_id)))


@bp.get("/classifications")
@api_login_required
def list_classifications() -> Any:
    """The 文書分類 table, for the 分類 pickers of the registry and 起案 forms.
    ---
    get:
      summary: The 文書分類 table (大分類/中分類/小分類) with each entry's default 保存年限
      tags: [documents]
      responses:
        200:
          description: 'ordered by code: [{"code": "010102", "name": "文書管理", "level": 3,
            "parent": "0101", "retention_years": 10}, …]; level 1 = 大分類, 2 = 中分類, 3 = 小分類;
            parent is null for a 大分類; retention_years is 1, 3, 5, 10, 30 or "permanent" (永年), null
            for a 大分類/中分類 heading without one of its own; entries retired in 管理 are left out'
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  properties:
                    code: {type: string}
                    name: {type: string}
                    level: {type: integer, enum: [1, 2, 3]}
                    parent: {type: string, nullable: true}
                    retention_years:
                      {oneOf: [{type: integer}, {type: string, enum: [permanent]}], nullable: true}
        401: {description: not signed in}
    """
    retired = classifications.retired_codes()  # not offered for new documents (管理 › 文書分類)
    offered = [c for c in registry.list_classifications() if c.code not in retired]
    return jsonify(registry.classifications_json(offered))


def file_response(doc: Document, version_number: int | None = None, *, inline: bool = False) -> Response:
    """Send a version's file as an attachment (or inline for a PDF preview), with nosniff."""
    versions = {v.number: v for v in doc.versions}
    version = versions.get(version_number) if version_number else doc.current_version
    if version is None:
        raise DocumentError(404, "ファイルが見つかりません。", "not_found")
    path = files.path_for(version.sha256)
    if not path.exists():
        raise DocumentError(503, "ファイルを読み出せません。管理者にお知らせください。", "file_missing")
    inline = inline and version.file.kind == "pdf"
    response = send_file(
        path,
        mimetype=version.file.mime_type if inline else "application/octet-stream",
        as_attachment=not inline,
        download_name=version.filename,
        conditional=True,
        etag=version.sha256,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/documents/<int:doc_id>/file")
@api_login_required
def get_file(doc_id: int) -> Any:
    """Download the current (or ?version=N) file of a document the caller may see.
    ---
    get:
      summary: The file of the current (or the given) version, as an attachment, never cached
      tags: [documents]
      parameters:
        - {name: version, in: query, schema: {type: integer, minimum: 1}}
      responses:
        200:
          description: the bytes
          content: {application/octet-stream: {schema: {type: string, format: binary}}}
        503: {description: the stored file is missing (a damaged store)}
    """
    doc = registry.get_for(current_user, doc_id)
    return file_response(doc, request.args.get("version", type=inputs.parse_id))


@bp.post("/documents/<int:doc_id>/versions")
@api_login_required
def add_version(doc_id: int) -> Any:
    """Add a file version → 201 with the document.
    ---
    post:
      summary: Add a new version of the document's file (whoever may update the document)
      tags: [documents]
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema: {type: object, required: [file], properties: {file: {type: string, format: binary}}}
      responses:
        201: {description: the document}
        400: {description: no file}
        403: {description: the caller may not update this document}
        409: {description: another version was added at the same moment}
        413: {description: larger than the upload limit}
        415: {description: 'a file type the registry does not hold, or one that contradicts its name'}
        422: {description: an empty or corrupt file}
    """
    stream, filename = _upload()
    doc = registry.add_version(current_user, doc_id, stream, filename)
    return jsonify(registry.document_json(doc)), 201


@bp.get("/search")
@api_login_required
def search_all() -> Any:
    """Search documents, approval requests and chat messages the caller may open.
    ---
    get:
      summary: One search over documents, 決裁 and chat messages, trimmed to what the caller may open
      tags: [documents]
      parameters:
        - name: q
          in: query
          required: true
          schema: {type: string, minLength: 1, maxLength: 500, pattern: '\\S'}
        - {name: type, in: query, schema: {type: string, enum: ['', document, approval, message]},
           description: empty = every type}
        - {name: fiscal_year, in: query, schema: {type: integer, minimum: 1900, maximum: 2200}}
        - {name: department, in: query, schema: {type: string}}
        - {name: classification, in: query, schema: {type: string}}
        - {name: visibility, in: query, schema: {type: string}}
        - name: date_from
          in: query
          description: empty = no bound
          schema: {anyOf: [{type: string, format: date}, {type: string, enum: ['']}]}
        - name: date_to
          in: query
          description: empty = no bound
          schema: {anyOf: [{type: string, format: date}, {type: string, enum: ['']}]}
        - {name: sort, in: query, schema: {type: string, enum: ['', relevance, date]},
           description: empty = relevance}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 20}}
        - {name: offset, in: query, schema: {type: integer, minimum: 0, maximum: 10000, default: 0}}
      responses:
        200:
          description: '{"total", "results": [{"type", "id", "title", "snippet", "score", "url",
            "fiscal_year", "department", "date" (YYYY-MM-DD), "document_number", "filed"?: [{"kind":
            "record"|"attachment", "id", "title", "filename", "url"}…], "approval"?: {"id", "title",
            "url"}, …}…], "facets": {"type", "fiscal_year", "department"}, "next_offset"}. A decided
            決裁, its filed record and attachments are one result (counted once); documents containing
            the words as typed rank before those found only through a synonym or another okurigana
            spelling'
        400: {description: 'bad parameter or empty query (Japanese message)'}
        422: {description: query over the abuse limits}
        503: {description: the search ran out of time}
    """
    return jsonify(search.search(current_user, request.args.to_dict()).json())


@bp.get("/retention/expired")
@api_login_required
def expired() -> Any:
    """The 満了 list (records staff): documents whose retention has ended.
    ---
    get:
      summary: Active documents whose 保存期間 ended before as_of (default today), oldest first
      tags: [documents]
      parameters:
        - name: as_of
          in: query
          description: empty = today
          schema: {anyOf: [{type: string, format: date}, {type: string, enum: ['']}]}
      responses:
        200: {description: '{"documents": [document…]}'}
        400: {description: as_of is not YYYY-MM-DD}
        403: {description: not records staff}
    """
    as_of = _date(request.args.get("as_of"), "as_of")
    docs = retention.expired(current_user, as_of)
    return jsonify({"documents": [registry.document_json(d) for d in docs]})


@bp.post("/documents/<int:doc_id>/dispose")
@api_login_required
def dispose(doc_id: int) -> Any:
    """廃棄 with a reason (records staff) → the disposal record.
    ---
    post:
      summary: Dispose of an expired document (records staff), keeping a disposal record
      tags: [documents]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [reason]
              properties: {reason: {type: string, minLength: 1, maxLength: 2000, pattern: '\\S'}}
      responses:
        200: {description: '{"document_id", "title", "reason", "actor", "files", "at"}'}
        403: {description: not records staff}
        409: {description: 'already disposed of, or its retention has not ended'}
        422: {description: 'no reason, or one over 2000 characters'}
    """
    record = retention.dispose(current_user, doc_id, json_body().get("reason"))
    return jsonify(
        {
            "document_id": record.document_id,
            "title": record.title,
            "reason": record.reason,
            "actor": record.actor,
            "files": record.files,
            "at": record.at.isoformat(),
        }
    )


@bp.post("/retention/disposal-proposals")
@api_login_required
def propose_disposal() -> Any:
    """廃棄 through a 決裁 (records staff): {"document_ids", "reason"} → 201 the proposal.

    The approval request is drafted and submitted on the DOCSEARCH_DISPOSAL_ROUTE route; when it
    is approved the documents are disposed of, each with a disposal record naming the 決裁.

    ---
    post:
      summary: Propose the 廃棄 of expired documents through a 決裁 (records staff)
      tags: [documents]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [document_ids, reason]
              properties:
                document_ids:
                  type: array
                  minItems: 1
                  maxItems: 100
                  items: {type: integer, minimum: 1, maximum: 2147483647}
                reason: {type: string, minLength: 1, maxLength: 2000, pattern: '\\S'}
      responses:
        201: {description: the proposal with its 決裁 and per-document status}
        403: {description: not records staff}
        404: {description: a document that does not exist or that the caller may not see}
        409: {description: 'a document already disposed of, not expired, or in another proposal'}
        422: {description: 'no documents, too many, no reason, or the 決裁 could not be drafted'}
    """
    body = json_body()
    proposal = disposal_approval.propose(current_user, body.get("document_ids"), body.get("reason"))
    return jsonify(disposal_approval.proposal_json(proposal)), 201


@bp.get("/retention/disposal-proposals")
@api_login_required
def list_disposal_proposals() -> Any:
    """The newest 廃棄 proposals with their status and per-document outcome (records staff).
    ---
    get:
      summary: The newest 廃棄 proposals (records staff)
      tags: [documents]
      responses:
        200: {description: '{"proposals": [proposal…]}'}
        403: {description: not records staff}
    """
    rows = disposal_approval.proposals(current_user)
    return jsonify({"proposals": [disposal_approval.proposal_json(p) for p in rows]})


@bp.post("/documents/<int:doc_id>/extend")
@api_login_required
def extend(doc_id: int) -> Any:
    """延長 with a reason and a new end date, or "permanent" (records staff).
    ---
    post:
      summary: Extend a document's 保存期間 to a later date or to 永年 (records staff)
      tags: [documents]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [reason, retention_until]
              properties:
                reason: {type: string, minLength: 1, maxLength: 2000, pattern: '\\S'}
                retention_until:
                  oneOf: [{type: string, format: date}, {type: string, enum: [permanent, 永年]}]
      responses:
        200: {description: '{"document_id", "retention_until"}'}
        400: {description: retention_until is neither YYYY-MM-DD nor permanent}
        403: {description: not records staff}
        409: {description: 'already disposed of, or already 永年'}
        422: {description: 'no reason, or a date that is not after the current end'}
    """
    body = json_body()
    permanent = str(body.get("retention_until", "")).lower() in ("permanent", "永年")
    new_until = None if permanent else _date(body.get("retention_until"), "retention_until")
    record = retention.extend(current_user, doc_id, body.get("reason"), new_until, permanent=permanent)
    return jsonify(
        {
            "document_id": record.document_id,
            "retention_until": record.new_until.isoformat() if record.new_until else None,
        }
    )


def _date(value: Any, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ApiError(400, f"{name} は YYYY-MM-DD の形式で指定してください。") from None
