"""Administrators' work on channels (管理 › チャンネル): the overview, archiving, private members.

An archived channel stays with its members and its history but is read-only (channels.check_writable
refuses posts, edits, deletions, reactions, pins, uploads, joins and invitations with 409 archived)
and is left out of their channel list. Archiving is undone by unarchiving; both are audited.

Administrators see channels' metadata, never their messages: the overview gives names, kinds,
member counts and retention of 課, public and private channels, and of direct messages only how many
there are (a DM's name is the names of the people in it, which is itself private).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from chat import channels, rooms
from chat.errors import ChatError, not_found
from chat.models import Channel, Member
from workspace import audit, calendar, db, inputs
from workspace.models import Department, User, utcnow

#: chat's own words for its kinds of channel (the chat screen says 公開 and 非公開).
KIND_LABELS = {"department": "課", "public": "公開", "private": "非公開", "direct": "ダイレクトメッセージ"}
#: The kinds an administrator sees one by one; direct messages are only counted.
LISTED_KINDS = ("department", "public", "private")


def _require_admin(user: User) -> None:
    if not user.has_role("admin"):
        # Refused before any lookup: a non-administrator learns nothing about which ids exist.
        raise ChatError(403, "チャンネルを管理できるのは管理者だけです。", "forbidden")


@dataclass(frozen=True)
class ChannelRow:
    """One channel as the administrators' list shows it (no message content)."""

    channel: Channel
    name: str
    member_count: int

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.channel.kind, self.channel.kind)

    @property
    def archived(self) -> bool:
        return self.channel.archived_at is not None

    def as_dict(self) -> dict[str, Any]:
        c = self.channel
        return {
            "id": c.id,
            "name": self.name,
            "kind": c.kind,
            "kind_label": self.kind_label,
            "description": c.description or "",
            "member_count": self.member_count,
            "retention_days": c.retention_days,
            "archived": self.archived,
            "archived_at": calendar.isoformat(c.archived_at),
        }


@dataclass(frozen=True)
class Overview:
    """Every 課, public and private channel, and how many direct messages there are."""

    rows: list[ChannelRow]
    direct_count: int
    group_direct_count: int


def _name(channel: Channel) -> str:
    if channel.kind == "department" and channel.department is not None:
        return channel.department.name
    return channel.name


def overview(admin: User) -> Overview:
    """The channel list of 管理 › チャンネル: 課 first, then public, private; archived ones too."""
    _require_admin(admin)
    session = db.session()
    counts = (
        select(Member.channel_id, func.count(Member.id).label("n"))
        .group_by(Member.channel_id)
        .subquery()
    )
    order = {kind: i for i, kind in enumerate(LISTED_KINDS)}
    found = session.execute(
        select(Channel, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.channel_id == Channel.id)
        .where(Channel.kind.in_(LISTED_KINDS))
    ).unique()
    rows = [ChannelRow(c, _name(c), int(n)) for c, n in found]
    rows.sort(key=lambda r: (r.archived, order.get(r.channel.kind, 9), r.name, r.channel.id))
    # A DM's member count is in its key ("3,8,12"): two people or a group, told apart without a join.
    keys = session.execute(select(Channel.direct_key).where(Channel.kind == "direct")).scalars().all()
    groups = sum(1 for k in keys if k and k.count(",") >= 2)
    return Overview(rows, len(keys) - groups, groups)


def get_channel(admin: User, channel_id: Any) -> ChannelRow:
    """One 課, public or private channel for 管理 (404 for a direct message or an unknown id)."""
    _require_admin(admin)
    if inputs.json_id(channel_id) is None:
        raise not_found()
    channel = db.session().get(Channel, channel_id)
    if channel is None or channel.kind not in LISTED_KINDS:
        raise not_found()
    return ChannelRow(channel, _name(channel), channels.member_counts([channel.id]).get(channel.id, 0))


@db.writes
def set_archived(admin: User, channel_id: Any, archived: Any) -> Channel:
    """Archive (read-only, out of members' lists) or unarchive a channel; audited; commit.

    Direct messages are not archived (404: administrators do not handle them one by one).
    """
    if not isinstance(archived, bool):
        raise ChatError(400, "archived は true か false で指定してください。", "bad_request")
    row = get_channel(admin, channel_id)
    channel = row.channel
    if (channel.archived_at is not None) == archived:
        return channel  # already so: nothing changes, nothing is audited
    before = calendar.isoformat(channel.archived_at)
    channel.archived_at = utcnow() if archived else None
    audit.record(
        "chat.channel.archive" if archived else "chat.channel.unarchive",
        actor=admin.username,
        target=f"channel:{channel.id}",
        detail={
            "name": row.name,
            "before": {"archived_at": before},
            "after": {"archived_at": calendar.isoformat(channel.archived_at)},
        },
    )
    return channel


# --- members of private channels ------------------------------------------------------------


def members(admin: User, channel_id: Any) -> list[User]:
    """The people of a channel, ordered by username (administrators see who, never what was said)."""
    row = get_channel(admin, channel_id)
    return [m.user for m in channels.members(row.channel.id)]


def _private(admin: User, channel_id: Any) -> Channel:
    row = get_channel(admin, channel_id)
    if row.channel.kind != "private":
        raise ChatError(
            409,
            "メンバーを変更できるのは非公開チャンネルだけです。課のチャンネルは名簿に従い、公開チャンネルにはだれでも参加できます。",
            "not_private",
        )
    return row.channel


def _usernames(channel_id: int) -> list[str]:
    return sorted(m.user.username for m in channels.members(channel_id))


@db.writes
def add_members(admin: User, channel_id: Any, usernames: Any) -> list[User]:
    """Add people to a private channel; audited with the members before and after; commit.

    Returns who was added (people already in it are skipped). Unknown or inactive people: 422.
    """
    channel = _private(admin, channel_id)
    if not usernames:
        raise ChatError(422, "追加する人を選んでください。", "invalid", field="usernames")
    try:
        people = channels.resolve_members(usernames)
    except ChatError as error:
        raise ChatError(error.status, error.message, error.code, field="usernames") from None
    before = _usernames(channel.id)
    added = [p for p in people if channels.membership(channel.id, p.id) is None]
    if not added:
        return []
    for person in added:
        channels.add_member(channel, person)
    db.session().flush()
    audit.record(
        "chat.channel.members",
        actor=admin.username,
        target=f"channel:{channel.id}",
        detail={"added": [p.username for p in added], "before": before, "after": _usernames(channel.id)},
    )
    ids = [p.id for p in added]
    db.on_commit(lambda: rooms.enter(ids, channel.id))
    return added


@db.writes
def remove_member(admin: User, channel_id: Any, username: Any) -> User:
    """Take one person out of a private channel; audited with before and after; commit."""
    channel = _private(admin, channel_id)
    person = None
    if isinstance(username, str) and username:
        person = db.session().execute(
            select(User).where(func.lower(User.username) == username.lower())
        ).unique().scalar_one_or_none()
    member = channels.membership(channel.id, person.id) if person is not None else None
    if person is None or member is None:
        raise ChatError(404, "その人はこのチャンネルのメンバーではありません。", "not_member")
    before = _usernames(channel.id)
    db.session().delete(member)
    db.session().flush()
    audit.record(
        "chat.channel.members",
        actor=admin.username,
        target=f"channel:{channel.id}",
        detail={"removed": [person.username], "before": before, "after": _usernames(channel.id)},
    )
    person_id = person.id
    db.on_commit(lambda: rooms.leave([person_id], channel.id))
    return person


def department_of(channel: Channel) -> Department | None:
    """The 課 of a department channel (its page says the members follow the directory)."""
    return channel.department if channel.kind == "department" else None
