"""Channel rules: who may see, join, write to and invite into which channel; department channels.

Visibility is the security core of chat. A private channel or direct message exists only for its
members: anyone else gets the same 404 as for an id that was never used. Department and public
channels are known to every member of staff, so a non-member is told 403 instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from chat import rooms
from chat.errors import ChatError, not_found
from chat.models import Channel, Member, Message
from workspace import audit, db, directory, inputs, text
from workspace.models import Department, User

NAME_MAX = 80
DESCRIPTION_MAX = 250
MEMBERS_MAX = 500
# A group DM is a conversation among a few people; its key (the sorted member ids) must also fit its
# 500-character column. Larger groups belong in a private channel.
DIRECT_MEMBERS_MAX = 20
CREATABLE_KINDS = ("public", "private", "direct")


# --- reading -----------------------------------------------------------------------------------


def membership(channel_id: int, user_id: int) -> Member | None:
    """Return the user's membership row in the channel, or None."""
    return (
        db.session()
        .execute(
            select(Member)
            .where(Member.channel_id == channel_id, Member.user_id == user_id)
            # The caller knows who the user is; member.user, if asked for, comes from the session.
            .options(lazyload(Member.user))
        )
        .scalar_one_or_none()
    )


def member_ids(channel_id: int) -> list[int]:
    """Return the ids of every member of the channel."""
    return list(
        db.session().execute(select(Member.user_id).where(Member.channel_id == channel_id)).scalars().all()
    )


def members(channel_id: int) -> list[Member]:
    """Return the channel's memberships (with their users), ordered by username."""
    return list(
        db.session()
        .execute(
            select(Member)
            .join(User, Member.user_id == User.id)
            .where(Member.channel_id == channel_id)
            .order_by(User.username)
        )
        .unique()
        .scalars()
        .all()
    )


# One statement for both, built once: every message post and history page starts here.
_CHANNEL_AND_MEMBER = (
    select(Channel, Member)
    .outerjoin(Member, (Member.channel_id == Channel.id) & (Member.user_id == bindparam("user_id")))
    .where(Channel.id == bindparam("channel_id"))
    # The caller is the user: member.user, if asked for, comes from the session without a query.
    .options(lazyload(Member.user))
)


def accessible(user: User, channel_id: Any) -> tuple[Channel, Member | None]:
    """Return (channel, membership) for a channel the user may know of, or raise ChatError.

    404 when the channel does not exist or is private/direct and the user is not in it;
    a department or public channel is returned with membership None for a non-member.
    """
    if inputs.json_id(channel_id) is None:  # not an id, or beyond any id: names nothing
        raise not_found()
    row = db.session().execute(_CHANNEL_AND_MEMBER, {"channel_id": channel_id, "user_id": user.id}).first()
    if row is None:
        raise not_found()
    channel, member = row
    if member is None and channel.kind in ("private", "direct"):
        raise not_found()
    return channel, member


def require_member(user: User, channel_id: Any, *, write: bool = False) -> tuple[Channel, Member]:
    """Return (channel, membership) or raise: 404 as in accessible(), 403 for a known channel not joined.

    With write, an archived channel is refused too (409 archived): its members may only read it.
    """
    channel, member = accessible(user, channel_id)
    if member is None:
        if write:
            raise ChatError(
                403,
                "このチャンネルには投稿できません。参加しているチャンネルだけに投稿できます。",
                "not_member",
            )
        raise ChatError(403, "このチャンネルに参加していません。", "not_member")
    if write:
        check_writable(channel)
    return channel, member


def check_writable(channel: Channel) -> None:
    """Raise 409 archived for an archived channel: nothing is posted, edited, reacted to or pinned there."""
    if channel.archived_at is not None:
        raise ChatError(
            409, "このチャンネルはアーカイブされています。読むことだけができます。", "archived"
        )


def display_name(channel: Channel, viewer: User, people: Sequence[User] | None = None) -> str:
    """The name a viewer sees: the 課's current name, the other people of a DM, or the channel's name."""
    if channel.kind == "department" and channel.department is not None:
        return channel.department.name
    if channel.kind == "direct":
        others = people if people is not None else [m.user for m in members(channel.id)]
        names = [u.display_name for u in others if u.id != viewer.id]
        return "、".join(names) or viewer.display_name
    return channel.name


def channel_json(channel: Channel, viewer: User, unread: int = 0) -> dict[str, Any]:
    """The public shape of a channel as one viewer sees it."""
    return {
        "id": channel.id,
        "name": display_name(channel, viewer),
        "kind": channel.kind,
        "description": channel.description or "",
        "unread": unread,
    }


def member_counts(channel_ids: Sequence[int]) -> dict[int, int]:
    """Return {channel id: number of members} for the given channels (browsing public channels)."""
    if not channel_ids:
        return {}
    rows = db.session().execute(
        select(Member.channel_id, func.count(Member.id))
        .where(Member.channel_id.in_(list(channel_ids)))
        .group_by(Member.channel_id)
    )
    return {channel_id: int(count) for channel_id, count in rows}


def list_joinable(user: User) -> list[Channel]:
    """Return the public channels the user has not joined (never a private one)."""
    joined = select(Member.channel_id).where(Member.user_id == user.id)
    return list(
        db.session()
        .execute(
            select(Channel)
            .where(Channel.kind == "public", Channel.archived_at.is_(None), Channel.id.not_in(joined))
            .order_by(Channel.name)
        )
        .scalars()
        .all()
    )


# --- creating and joining ----------------------------------------------------------------------


def resolve_members(usernames: Any) -> list[User]:
    """Return the active people named by a list of usernames (each once), or raise 400/422."""
    if usernames is None:
        return []
    if not isinstance(usernames, list) or not all(isinstance(u, str) for u in usernames):
        raise ChatError(400, "members はユーザー名の配列で指定してください。", "bad_request")
    if len(usernames) > MEMBERS_MAX:
        raise ChatError(422, f"メンバーは{MEMBERS_MAX}人までです。", "invalid")
    found: list[User] = []
    for username in dict.fromkeys(usernames):
        person = directory.get_user(username)
        if person is None or not person.active:
            raise ChatError(422, f"ユーザー「{username[:64]}」は見つかりません。", "unknown_user")
        # yamada and YAMADA are one person (user names ignore case). By id: Flask-Login's UserMixin
        # makes two users "equal" when their get_id() (the sign-in key, None here) is.
        if all(p.id != person.id for p in found):
            found.append(person)
    return found


def _clean(rule: Callable[[str, str], str], value: str, label: str) -> str:
    try:
        return rule(value, label)
    except text.TextRefused as error:
        raise ChatError(422, str(error), "invalid") from None


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ChatError(422, "チャンネル名を入力してください。", "invalid")
    name = " ".join(_clean(text.clean_line, name, "チャンネル名").split())
    if len(name) > NAME_MAX:
        raise ChatError(422, f"チャンネル名は{NAME_MAX}文字以内にしてください。", "invalid")
    return name


def _check_description(description: Any) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        raise ChatError(400, "description は文字列で指定してください。", "bad_request")
    # Typed in a textarea, shown on one line in the channel list: newlines become spaces.
    description = " ".join(_clean(text.clean_text, description, "説明").split())
    if len(description) > DESCRIPTION_MAX:
        raise ChatError(422, f"説明は{DESCRIPTION_MAX}文字以内にしてください。", "invalid")
    return description


@db.writes
def create_channel(
    creator: User, name: Any, kind: Any, usernames: Any, description: Any = None
) -> tuple[Channel, bool]:
    """Create a public/private channel (with its 説明) or a (group) DM with the creator in it; commit.

    Returns (channel, created). A DM between the same people is returned again (created False)
    rather than duplicated. Department channels come from the directory, never from this call.
    """
    if kind not in CREATABLE_KINDS:
        raise ChatError(422, "kind は public・private・direct のいずれかです。", "invalid")
    people = [p for p in resolve_members(usernames) if p.id != creator.id]
    session = db.session()
    if kind == "direct":
        if not people:
            raise ChatError(422, "ダイレクトメッセージの相手を指定してください。", "invalid")
        if len(people) + 1 > DIRECT_MEMBERS_MAX:
            raise ChatError(
                422,
                f"グループのダイレクトメッセージは{DIRECT_MEMBERS_MAX}人までです。"
                "もっと多い人数では非公開チャンネルを作成してください。",
                "too_many_members",
            )
        key = ",".join(str(i) for i in sorted({creator.id, *(p.id for p in people)}))
        existing = session.execute(select(Channel).where(Channel.direct_key == key)).scalar_one_or_none()
        if existing is not None:
            return existing, False
        channel = Channel(kind="direct", name="", direct_key=key, created_by_id=creator.id)
    else:
        channel = Channel(
            kind=kind,
            name=_check_name(name),
            description=_check_description(description),
            created_by_id=creator.id,
        )
    try:
        with session.begin_nested():  # a savepoint: the unit goes on if this DM exists already
            session.add(channel)
    except IntegrityError:
        if channel.direct_key is None:
            raise
        # The same DM was created at the same moment by another request (PostgreSQL).
        existing = session.execute(
            select(Channel).where(Channel.direct_key == channel.direct_key)
        ).scalar_one()
        return existing, False
    everyone = [creator, *people]
    for person in everyone:
        session.add(Member(channel_id=channel.id, user_id=person.id, last_read_id=0))
    audit.record(
        "chat.channel.create",
        actor=creator.username,
        target=f"channel:{channel.id}",
        detail={"kind": kind, "members": len(everyone)},
    )
    _enter_after_commit([p.id for p in everyone], channel.id)
    return channel, True


def _enter_after_commit(user_ids: list[int], channel_id: int) -> None:
    db.on_commit(lambda: rooms.enter(user_ids, channel_id))


def _leave_after_commit(user_ids: list[int], channel_id: int) -> None:
    db.on_commit(lambda: rooms.leave(user_ids, channel_id))


def _latest_id(channel_id: int) -> int:
    return (
        db.session().execute(select(func.max(Message.id)).where(Message.channel_id == channel_id)).scalar()
        or 0
    )


def add_member(channel: Channel, user: User) -> Member:
    """Add a membership row in the caller's unit (no checks: the caller decided who may join)."""
    # A newcomer starts at the newest message: history before they joined is not "unread" to them.
    member = Member(channel_id=channel.id, user_id=user.id, last_read_id=_latest_id(channel.id))
    db.session().add(member)
    return member


@db.writes
def join(user: User, channel_id: Any) -> Channel:
    """Join a public channel (anyone may); commit. Other kinds are joined only by invitation."""
    channel, member = accessible(user, channel_id)
    if member is not None:
        return channel
    if channel.kind != "public":
        raise ChatError(403, "このチャンネルには自分で参加できません。", "not_joinable")
    check_writable(channel)
    add_member(channel, user)
    _enter_after_commit([user.id], channel.id)
    return channel


@db.writes
def invite(inviter: User, channel_id: Any, usernames: Any) -> list[User]:
    """Add people to a public or private channel the inviter belongs to; commit; return who was added."""
    channel, _member = require_member(inviter, channel_id, write=True)
    if channel.kind not in ("public", "private"):
        raise ChatError(403, "このチャンネルにはメンバーを追加できません。", "not_invitable")
    added = [p for p in resolve_members(usernames) if membership(channel.id, p.id) is None]
    for person in added:
        add_member(channel, person)
    if added:
        audit.record(
            "chat.channel.invite",
            actor=inviter.username,
            target=f"channel:{channel.id}",
            detail={"added": [p.username for p in added]},
        )
        _enter_after_commit([p.id for p in added], channel.id)
    return added


@db.writes
def leave(user: User, channel_id: Any) -> None:
    """Leave a public or private channel; commit. A 課's channel follows the directory instead."""
    channel, member = require_member(user, channel_id)
    if channel.kind in ("department", "direct"):
        raise ChatError(409, "このチャンネルからは退出できません。", "cannot_leave")
    db.session().delete(member)
    _leave_after_commit([user.id], channel.id)


# --- department channels follow the directory ------------------------------------------------


@db.joins_unit
def department_channel(department: Department) -> Channel:
    """Return the 課's channel, creating it (in the caller's write unit); a 係 maps to its parent 課."""
    if department.parent_id is not None and department.parent is not None:
        department = department.parent
    session = db.session()
    channel = session.execute(
        select(Channel).where(Channel.department_id == department.id)
    ).scalar_one_or_none()
    if channel is None:
        channel = Channel(kind="department", name=department.name, department_id=department.id)
        session.add(channel)
        session.flush()
    return channel


@db.writes
def sync_department_membership(user: User) -> tuple[list[int], list[int]]:
    """Put an active user in their 課's channel and out of every other 課's; commit.

    Returns (joined channel ids, left channel ids) so the caller can move live sockets.
    """
    session = db.session()
    wanted: Channel | None = None
    if user.active and user.department is not None:
        wanted = department_channel(user.department)
    current = (
        session.execute(
            select(Member)
            .join(Channel, Member.channel_id == Channel.id)
            .where(Member.user_id == user.id, Channel.kind == "department")
        )
        .scalars()
        .all()
    )
    left = [m.channel_id for m in current if wanted is None or m.channel_id != wanted.id]
    for member in current:
        if member.channel_id in left:
            session.delete(member)
    joined: list[int] = []
    if wanted is not None and all(m.channel_id != wanted.id for m in current):
        add_member(wanted, user)
        joined.append(wanted.id)
    for channel_id in joined:
        _enter_after_commit([user.id], channel_id)
    for channel_id in left:
        _leave_after_commit([user.id], channel_id)
    return joined, left


@db.writes
def remove_from_every_channel(user_id: int) -> int:
    """Drop a deactivated person from every channel; commit; return how many memberships ended."""
    session = db.session()
    rows = session.execute(select(Member).where(Member.user_id == user_id)).scalars().all()
    for member in rows:
        session.delete(member)
    if rows:
        audit.record(
            "chat.member.removed",
            actor="directory",
            target=f"user:{user_id}",
            detail={"channels": [m.channel_id for m in rows]},
        )
    return len(rows)


def on_user_changed(
    _sender: Any, user_id: int, created: bool = False, department_changed: bool = False, **_kw: Any
) -> None:
    """Signal receiver: a new or transferred person lands in (only) their 課's channel."""
    try:
        user = directory.get_user_by_id(user_id)
        if user is not None:
            sync_department_membership(user)
    except Exception:
        # The directory change is already committed; a failure here must not look like its failure.
        # The membership heals itself the next time the person opens chat (reads.my_channels).
        db.session().rollback()
        current_app.logger.exception("chat: could not sync department channel of user %s", user_id)


def on_user_deactivated(_sender: Any, user_id: int, **_kw: Any) -> None:
    """Signal receiver: a deactivated person leaves every channel (the core already ended their sockets)."""
    try:
        remove_from_every_channel(user_id)
    except Exception:
        db.session().rollback()
        current_app.logger.exception("chat: could not remove user %s from channels", user_id)


def ensure_department_channels(users: Iterable[User]) -> None:
    """Bring every given user's department membership in step (used by `workspace chat sync`)."""
    for user in users:
        sync_department_membership(user)
    current_app.logger.info("chat: department channels in step with the directory")
