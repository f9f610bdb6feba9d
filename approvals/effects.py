"""Effects of a transition: what the approval service must do after the transaction commits.

The machine only describes them; the service turns them into notifications (``approval:assigned``),
inbox updates, audit entries and document numbers. Recipients are named explicitly here because
choosing who is told is a security decision, made once, next to the rules.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Assigned:
    """The request is now waiting for these people on this step (new inbox items)."""

    user_ids: tuple[int, ...]
    step_index: int


@dataclass(frozen=True)
class Unassigned:
    """The request left these people's 未処理 inbox without their action (差戻し, 引戻し, 却下 …)."""

    user_ids: tuple[int, ...]
    step_index: int


@dataclass(frozen=True)
class Circulated:
    """供覧: these readers are notified; nothing waits for them."""

    user_ids: tuple[int, ...]
    step_index: int


@dataclass(frozen=True)
class PostReviewOwed:
    """Somebody acted for this absent person (代決 or 引上げ); a 後閲 item appears in their inbox."""

    user_id: int
    step_index: int


@dataclass(frozen=True)
class PostReviewCancelled:
    """The action that created a 後閲 was pulled back; the item disappears."""

    user_id: int
    step_index: int


@dataclass(frozen=True)
class PostReviewAcknowledged:
    """This person acknowledged every 後閲 they owed on the request."""

    user_id: int


@dataclass(frozen=True)
class Decided:
    """The decide step is cleared: the request is approved (sign the PDF, hand it to the registry)."""


@dataclass(frozen=True)
class Rejected:
    """The request was rejected (却下); it is final."""


@dataclass(frozen=True)
class SentBack:
    """差戻し: to the drafter (``to_step`` None) or to an earlier step."""

    to_step: int | None


@dataclass(frozen=True)
class Withdrawn:
    """The drafter withdrew the request (取下げ)."""


@dataclass(frozen=True)
class NumberDue:
    """Assign the 文書番号 now (at first submission or at decision, per the template's ``number_at``)."""


Effect = (
    Assigned
    | Unassigned
    | Circulated
    | PostReviewOwed
    | PostReviewCancelled
    | PostReviewAcknowledged
    | Decided
    | Rejected
    | SentBack
    | Withdrawn
    | NumberDue
)


def effect_to_dict(effect: Effect) -> dict[str, Any]:
    """Return ``{"type": <class name>, **fields}`` for an outbox row."""
    data = asdict(effect)
    return {
        "type": type(effect).__name__,
        **{k: list(v) if isinstance(v, tuple) else v for k, v in data.items()},
    }
