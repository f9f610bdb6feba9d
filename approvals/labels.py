"""The words 電子決裁 shows for statuses, step kinds, approvers' boxes and actions — one set for every
page, the API's history labels, the 起案用紙 PDF and the search results.

An approval is called by what it does: 決裁 on the deciding step (専決 where a 専決 rule of the
事務決裁規程 decides), 承認 on every step before it.
"""

from __future__ import annotations

from typing import Any

from approvals.state import RequestState

#: A request's ``status``.
STATUS_LABELS = {
    "draft": "下書き",
    "in_progress": "決裁中",
    "sent_back": "差戻し中",
    "approved": "決裁済み",
    "rejected": "却下",
    "withdrawn": "取下げ",
}

#: A step's ``kind``.
KIND_LABELS = {"review": "回議", "consult": "合議", "circulate": "供覧", "decide": "決裁"}

#: One approver's box on the route (a slot's ``status``); 代決, 引上げ, 省略 and 却下 are also the
#: marks printed in the 決裁欄.
SLOT_LABELS = {
    "waiting": "未着",
    "pending": "処理待ち",
    "approved": "承認",
    "deputy_approved": "代決",
    "pulled_up": "引上げ",
    "not_needed": "不要",
    "rejected": "却下",
    "skipped": "省略",
    "notified": "供覧中",
    "read": "確認済み",
}

#: What a person does (the ``action`` of the API, a button, a history entry). ``approve`` is the
#: word for an intermediate step; on the deciding step see :func:`approve_label`.
ACTION_LABELS = {
    "submit": "起案",
    "approve": "承認",
    "send_back": "差戻し",
    "reject": "却下",
    "pull_back": "引戻し",
    "withdraw": "取下げ",
    "resubmit": "再提出",
    "deputy_approve": "代決",
    "acknowledge": "後閲",
    "pull_up": "引上げ",
    "read": "供覧確認",
}

DECIDE = "決裁"
DELEGATED_DECIDE = "専決"
#: The 決裁欄 mark of a 代決 the absent decider has read afterwards.
POST_REVIEWED_MARK = "後閲済"
#: The watermark of a record that is not (yet) decided, unless it was rejected or withdrawn.
UNDECIDED = "未決裁"


def decide_label(step_label: str | None) -> str:
    """Return the word for deciding on a 決裁 step whose 決裁区分 is ``step_label``: 専決 or 決裁."""
    return DELEGATED_DECIDE if DELEGATED_DECIDE in (step_label or "") else DECIDE


def approve_label(step_kind: str | None, step_label: str | None) -> str:
    """Return the word for approving a step: 決裁 / 専決 on the deciding step, else 承認."""
    return decide_label(step_label) if step_kind == "decide" else ACTION_LABELS["approve"]


def history_label(entry: Any, state: RequestState) -> str:
    """Return the word for a history entry: an approval on the deciding step is 決裁 (or 専決 where a
    専決 rule decided), never 承認."""
    if entry.action == "approve" and entry.step_index is not None and state.steps:
        step = state.steps[entry.step_index]
        return approve_label(step.kind, step.label)
    return ACTION_LABELS.get(entry.action, entry.action)


def watermark(status: str) -> str:
    """Return the word across an undecided record: 却下, 取下げ, else 未決裁."""
    return STATUS_LABELS[status] if status in ("rejected", "withdrawn") else UNDECIDED
