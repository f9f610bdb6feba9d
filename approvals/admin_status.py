"""approvals' part of 管理 › システム状態: the village signing certificate and when it expires.

Decided 決裁 records are signed with it (approvals/signing_keys.py); an expired certificate makes
new records fail to sign, so the page warns 90 days ahead.  The keys are created by ``workspace keys
init`` or at the first decision; until then there is nothing to check.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from flask import Flask

from approvals import record
from approvals.signing_keys import key_paths
from workspace import calendar
from workspace.admin import status

#: 注意 when the certificate ends within this many days.
WARNING_DAYS = 90


def certificate_facts(pem: bytes, now: dt.datetime) -> dict[str, Any]:
    """Read a PEM certificate: subject, not_before, not_after (ISO, JST) and days left from ``now``."""
    cert = x509.load_pem_x509_certificate(pem)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return {
        "present": True,
        "subject": str(names[0].value) if names else cert.subject.rfc4514_string(),
        "not_before": calendar.isoformat(cert.not_valid_before_utc),
        "not_after": calendar.isoformat(cert.not_valid_after_utc),
        "days_left": (cert.not_valid_after_utc - now).days,
        "_not_before": cert.not_valid_before_utc,
        "_not_after": cert.not_valid_after_utc,
    }


def signing_part(now: dt.datetime | None = None) -> dict[str, Any]:
    """The signing certificate's part of システム状態 (as of ``now``, default the present)."""
    path = key_paths(record.key_dir()).cert
    title = "電子署名の証明書"
    if not path.exists():
        data = {"present": False, "not_after": None, "not_before": None, "days_left": None, "subject": None}
        return {
            "key": "signing_certificate",
            "title": title,
            "state": "warning",
            "data": data,
            "order": 60,
            "summary": "まだ作成されていません。最初の決裁が確定するときに自動で作成されます"
            "（役場の認証局を使う場合は `workspace keys init` で用意してください）。",
            "facts": [("証明書", "ありません")],
        }
    now = now or dt.datetime.now(dt.UTC)
    found = certificate_facts(path.read_bytes(), now)
    not_before, not_after = found.pop("_not_before"), found.pop("_not_after")
    days = found["days_left"]
    facts = [
        ("名義", found["subject"]),
        ("有効期間の始まり", status.when(not_before)),
        (
            "有効期限",
            f"{status.when(not_after)}（あと{max(days, 0):,}日）" if days >= 0 else status.when(not_after),
        ),
    ]
    if not_after <= now:
        state, summary = (
            "error",
            "証明書の有効期限が切れています。決裁の記録に署名できません。"
            "`workspace keys init` で作り直してください。",
        )
    elif not_before > now:
        state, summary = "error", "証明書の有効期間がまだ始まっていません。サーバーの時計を確認してください。"
    elif days < WARNING_DAYS:
        state, summary = "warning", f"有効期限まであと{days}日です。期限までに証明書を更新してください。"
    else:
        state, summary = "ok", "有効です。"
    return {
        "key": "signing_certificate",
        "title": title,
        "state": state,
        "summary": summary,
        "data": found,
        "facts": facts,
        "order": 60,
    }


def init_app(app: Flask) -> None:
    """Add the signing certificate to 管理 › システム状態."""
    status.add_part(app, "signing_certificate", signing_part)
