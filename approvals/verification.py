"""The browser's PDF check: verify a 起案用紙 with the village keys and say which request it records.

``workspace approvals verify`` answers the same question on the command line (approvals/cli.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from approvals import access, record
from approvals.models import ApprovalRequest, DecidedRecord
from approvals.signing import VerificationResult, verify_pdf
from workspace import db
from workspace.models import User


class KeysMissing(Exception):
    """The village trust roots are not there (``workspace keys init`` has not run)."""


@dataclass(frozen=True)
class Check:
    """The verdict plus what the viewer may learn about the request the PDF claims to record.

    ``title`` and ``visible`` are filled only for a valid signature: an unsigned or altered file may
    name any request id, and must not reveal another request's 件名 to whoever uploads it.
    """

    result: VerificationResult
    request_id: int | None
    document_number: str | None
    title: str | None
    visible: bool
    same_as_kept: bool  # byte for byte the record this server issued for that request
    decided_at: dt.datetime | None = None  # only for a viewer who may see the request


def check(pdf_bytes: bytes, viewer: User) -> Check:
    """Verify ``pdf_bytes``; raise :class:`KeysMissing` when the village keys are not set up."""
    try:
        result = verify_pdf(pdf_bytes, record.key_dir())
    except FileNotFoundError as error:
        raise KeysMissing(str(error)) from error
    title, visible, same, decided_at = None, False, False, None
    if result.valid and result.request_id is not None:
        row = db.session().get(ApprovalRequest, result.request_id)
        if row is not None:
            title, visible = row.title, access.can_view(viewer, row)
            kept = db.session().get(DecidedRecord, row.id)
            same = kept is not None and kept.sha256 == hashlib.sha256(pdf_bytes).hexdigest()
            decided_at = row.decided_at if visible else None
    return Check(result, result.request_id, result.document_number, title, visible, same, decided_at)
