"""What a 人事異動 does to chat, for the core's preview (workspace.departments): the 課 channel the
person joins and the ones they leave — exactly what ``channels.sync_department_membership`` will do
when ``signals.user_changed`` arrives after the move. Nothing is written here.

Registered from ``chat.init_app``; the core never imports this module.
"""

from __future__ import annotations

from sqlalchemy import select

from chat.models import Channel, Member
from workspace import db
from workspace.departments import Consequence
from workspace.models import Department, User


def transfer_consequences(
    user: User, department: Department, section: Department | None
) -> list[Consequence]:
    """The 課 channels joined and left (a 係 belongs to its 課's channel)."""
    session = db.session()
    current = (
        session.execute(
            select(Channel)
            .join(Member, Member.channel_id == Channel.id)
            .where(Member.user_id == user.id, Channel.kind == "department")
            .order_by(Channel.id)
        )
        .scalars()
        .all()
    )
    target = department.parent if department.parent is not None else department
    wanted = session.execute(select(Channel).where(Channel.department_id == target.id)).scalar_one_or_none()
    joined = [] if wanted is not None and any(c.id == wanted.id for c in current) else [_name(wanted, target)]
    left = [_name(c, None) for c in current if wanted is None or c.id != wanted.id]
    found = []
    if joined:
        note = None if wanted is not None else "チャンネルはまだないため、異動のときに作られます。"
        found.append(Consequence("参加するチャンネル", joined, note))
    if left:
        found.append(Consequence("退出するチャンネル", left, "課のチャンネルのメンバーから外れます。"))
    if not found:
        found.append(Consequence("チャンネル", [], "参加している課のチャンネルは変わりません。"))
    return found


def _name(channel: Channel | None, department: Department | None) -> str:
    if channel is not None and channel.department is not None:
        return f"#{channel.department.name}"
    if channel is not None:
        return f"#{channel.name}"
    return f"#{department.name}" if department is not None else ""
