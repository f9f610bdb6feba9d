"""How a request moves along its frozen route: the mechanics shared by the transitions.

Advancing to the next blocking step (notifying 供覧 readers on the way), settling a step, resetting,
owing and cancelling 後閲. *Who* may do *what* and *when* is decided in :mod:`approvals.machine`;
nothing here checks permissions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from approvals import effects as fx
from approvals.state import (
    APPROVED,
    IN_PROGRESS,
    NOT_NEEDED,
    NOTIFIED,
    PENDING,
    WAITING,
    Advance,
    PostReview,
    RequestState,
    Slot,
    Step,
    step_complete,
)


@dataclass
class Move:
    """One transition in the making: the untouched ``before``, the copy being changed, and the effects."""

    before: RequestState
    state: RequestState
    actor: int
    at: str
    absences: Mapping[int, int]
    effects: list[fx.Effect]
    on_behalf_of: int | None = None
    step_index: int | None = None

    @property
    def seq(self) -> int:
        """Return the version this transition produces (stamped on slots to order actions)."""
        return self.before.version + 1

    def stamp(self, slot: Slot, status: str) -> None:
        """Record that the actor acted on ``slot`` now."""
        slot.status, slot.acted_by, slot.acted_at, slot.seq = status, self.actor, self.at, self.seq


def pending(state: RequestState) -> list[Slot]:
    """Return every pending slot of the request."""
    return [s for st in state.steps for s in st.slots if s.status == PENDING]


def unassign(move: Move, keep: int | None = None) -> None:
    """Turn every pending slot back to waiting and tell the service whose inbox to clear."""
    step = move.state.current
    ids = tuple(sorted({s.user_id for s in pending(move.state) if s.user_id != keep}))
    for slot in pending(move.state):
        slot.status = WAITING
    if ids and step is not None:
        move.effects.append(fx.Unassigned(ids, step))


def reset_from(state: RequestState, start: int) -> None:
    """Reset every slot from step ``start`` on to waiting (skips stay)."""
    for step in state.steps[start:]:
        for slot in step.slots:
            slot.reset()


def advance(move: Move, start: int) -> None:
    """Move the flow to the first blocking step from ``start``, notifying 供覧 readers on the way."""
    state = move.state
    for step in state.steps[start:]:
        if step.skipped:
            continue
        slots = step.active_slots()
        ids = tuple(s.user_id for s in slots)
        if step.kind == "circulate":
            for slot in slots:
                slot.status = NOTIFIED
            move.effects.append(fx.Circulated(ids, step.index))
            continue
        for slot in slots:
            slot.status = PENDING
        state.current = step.index
        move.effects.append(fx.Assigned(ids, step.index))
        return
    raise AssertionError("a route always ends with a decide step")  # guarded by attach_route


def start(move: Move) -> None:
    move.state.status = IN_PROGRESS
    move.state.last_advance = None
    reset_from(move.state, 0)
    advance(move, 0)


def after_clearance(move: Move, step: Step, slot_index: int) -> None:
    """Settle a step after one of its slots was cleared: complete it and move on, or decide."""
    if step.kind == "consult" and step.mode == "any":
        others = [s for s in step.slots if s.status == PENDING]
        for slot in others:
            slot.status = NOT_NEEDED
        if others:
            move.effects.append(fx.Unassigned(tuple(s.user_id for s in others), step.index))
    if not step_complete(step):
        return
    state = move.state
    if step.kind == "decide":
        state.status, state.current, state.last_advance = APPROVED, None, None
        move.effects.append(fx.Decided())
        if state.number_at == "decision":
            move.effects.append(fx.NumberDue())
        return
    state.last_advance = Advance(step.index, slot_index, move.actor)
    advance(move, step.index + 1)


def owe_post_review(move: Move, slot: Slot, step: Step, reason: str) -> None:
    review = PostReview(slot.user_id, step.index, reason, move.actor, move.at, move.seq)
    move.state.post_reviews.append(review)
    move.effects.append(fx.PostReviewOwed(slot.user_id, step.index))


def cancel_post_reviews(move: Move, slot: Slot, step: Step) -> None:
    for review in list(move.state.post_reviews):
        if review.step_index == step.index and review.user_id == slot.user_id and review.seq == slot.seq:
            move.state.post_reviews.remove(review)
            move.effects.append(fx.PostReviewCancelled(slot.user_id, step.index))


def revert(move: Move, step: Step, slot: Slot) -> None:
    """Undo the action on ``slot`` (approval, 代決 or 引上げ) and make it pending again."""
    cancel_post_reviews(move, slot, step)
    slot.reset()
    slot.status = PENDING
    move.on_behalf_of = slot.user_id if slot.user_id != move.actor else None
    move.step_index = step.index
