"""監査ログ in 管理: the 改ざん検証 (chain verification) job and its API.

The verification walks the whole chain (``workspace.audit.verify``); on a village's years of entries
that takes a while, so it runs as a background job with a progress bar and says where the chain
first breaks, if it does.  Starting it is itself audited (``admin.job.start``).
"""

from __future__ import annotations

from typing import Any

from workspace import audit
from workspace.admin import api_bp, api_role, jobs

PROBLEM_WORDS = {
    "changed": "内容が書き換えられています",
    "removed": "記録が削除されています",
    "inserted": "記録が差し込まれています",
    "truncated": "末尾の記録が失われています",
}


def verify_chain(run: jobs.Run) -> dict[str, Any]:
    """The job: verify the chain, reporting progress per batch; the result names the first bad entry."""
    result = audit.verify(progress=lambda checked, total: run.progress(checked / total if total else 1.0,
                                                                          f"{checked:,}件を確認しました"))
    return {
        "ok": result.ok,
        "checked": result.checked,
        "problem": result.problem,
        "problem_label": PROBLEM_WORDS.get(result.problem or ""),
        "entry_id": result.entry_id,
    }


jobs.register("audit.verify", "改ざん検証", "workspace.admin.audit:verify_chain")


@api_bp.post("/admin/audit/verify")
@api_role()
def start_verify() -> Any:
    """Start the audit chain's verification.
    ---
    post:
      summary: Verify the audit log's hash chain in the background (role admin)
      description: >
        Answers 202 with the job at once; the same job if a verification is already running.
        Follow it with GET /api/v1/admin/jobs/{id} or Socket.IO `job:progress`. Its result:
        {"ok", "checked", "problem", "problem_label", "entry_id"} (the first bad entry, if any).
      tags: [admin]
      responses:
        202: {description: '{"job": {"id", "kind", "state", "progress", …}, "started": bool}'}
        403: {description: not an administrator}
    """
    return jobs.start_for_me("audit.verify")
