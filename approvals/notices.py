"""Which 決裁 events become a person's 通知 (workspace.notifications), and what they say.

A request becomes my turn (or my deputy's), my request is sent back to me, decided or rejected,
a 供覧 reaches me, a 後閲 is owed by me. Written in the transaction of the transition, before its
commit; the actor is never told of their own act. The recipients come from the effects, which the
state machine derives from the route: only people on the request are ever named.
"""

from __future__ import annotations

from collections.abc import Iterable

from approvals import effects as fx
from approvals.models import ApprovalRequest
from workspace import notifications
from workspace.models import User


def request_url(request_id: int) -> str:
    """The request's page, where each of these notices is handled."""
    return f"/approvals/{request_id}"


def for_transition(
    effects: Iterable[fx.Effect],
    row: ApprovalRequest,
    actor: User,
    absences: dict[int, int],
    comment: str | None,
) -> None:
    """Write the notices a transition calls for (one per person per request version and event)."""
    title = f"「{row.title}」"
    drafter = row.drafter.display_name
    url = request_url(row.id)

    def tell(user_ids: Iterable[int], what: str, text: str) -> None:
        ref = f"approval:{row.id}:v{row.version}:{what}"
        notifications.notify(user_ids, "approval", ref, text, url, actor_id=actor.id)

    for effect in effects:
        if isinstance(effect, fx.Assigned):
            # The deputy of an absent approver sees the item in his inbox, so he is told too.
            ids = set(effect.user_ids) | {absences[u] for u in effect.user_ids if u in absences}
            tell(ids, "assigned", f"{drafter}さんの起案{title}があなたの決裁待ちになりました")
        elif isinstance(effect, fx.Circulated):
            tell(effect.user_ids, "circulated", f"{drafter}さんの起案{title}が供覧で回ってきました")
        elif isinstance(effect, fx.PostReviewOwed):
            tell(
                [effect.user_id],
                "post_review",
                f"{actor.display_name}さんが代わりに処理した起案{title}の後閲をお願いします",
            )
        elif isinstance(effect, fx.SentBack) and effect.to_step is None:
            reason = f"：{notifications.excerpt(comment)}" if comment else ""
            text = f"{actor.display_name}さんが起案{title}を差し戻しました{reason}"
            tell([row.drafter_id], "sent_back", text)
        elif isinstance(effect, fx.Decided):
            tell([row.drafter_id], "decided", f"起案{title}が決裁されました")
        elif isinstance(effect, fx.Rejected):
            tell([row.drafter_id], "rejected", f"{actor.display_name}さんが起案{title}を却下しました")
