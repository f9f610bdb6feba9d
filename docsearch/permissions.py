"""Who may see and change a document: one rule, used by the database checks and the index ``acl``.

Visibility (秘区分):

* ``public`` (公開) and ``internal`` (庁内限り): every signed-in staff member.  They differ only in
  what may leave the office (public may be handed out), which this system does not decide.
* ``department`` (課内限り): staff of the document's 課, its registrant, explicitly granted
  people, records staff (role ``records``) and administrators (role ``admin``).
* ``secret`` (秘): its registrant, explicitly granted people, records staff and administrators.

A document the caller may not see is answered with 404, as if it did not exist.

Search also finds approval requests and chat messages; ``search_tokens`` adds the tokens that open
them (see ``docsearch.engine.base``), asked of chat and approvals at query time so that a change of
channel membership or of today's 代理者 counts at once, without re-indexing anything.
"""

from __future__ import annotations

from approvals import indexing as approval_reads
from chat import indexing as chat_reads
from docsearch.models import Document
from workspace.models import User

ALL = "all"
RECORDS = "role:records"
ADMIN = "role:admin"


def is_records(user: User) -> bool:
    """True for records staff and administrators, who see and manage every document."""
    return user.has_role("records") or user.has_role("admin")


def user_tokens(user: User) -> set[str]:
    """Return the ``acl`` tokens a user holds (see ``docsearch.engine.base``)."""
    tokens = {ALL, f"user:{user.id}"}
    if user.department is not None:
        tokens.add(f"dept:{user.department.code}")
    if is_records(user):
        tokens.add(RECORDS)
    return tokens


def search_tokens(user: User) -> set[str]:
    """Return every ``acl`` token user holds for search: documents, approvals, chat messages.

    ``route:<id>`` for the user and for each absent person whose 代理者 the user is today (the
    deputy sees what the absent person's place on a route shows), ``channel:<id>`` for each channel
    the user is a member of now, ``role:admin`` for administrators.
    """
    tokens = user_tokens(user)
    if user.has_role("admin"):
        tokens.add(ADMIN)
    tokens.add(f"route:{user.id}")
    tokens.update(f"route:{uid}" for uid in approval_reads.absent_people_deputized_by(user.id))
    tokens.update(f"channel:{cid}" for cid in chat_reads.channel_ids_of(user.id))
    return tokens


def approval_acl(request: approval_reads.IndexableRequest) -> list[str]:
    """Return the ``acl`` tokens of an approval request (the rule of approvals.access.can_view)."""
    tokens = {ADMIN, f"user:{request.drafter_id}"}
    tokens.update(f"route:{uid}" for uid in request.related_user_ids)
    return sorted(tokens)


def message_acl(message: chat_reads.IndexableMessage) -> list[str]:
    """Return the ``acl`` tokens of a chat message: the members of its channel, whoever they are now."""
    return [f"channel:{message.channel_id}"]


def document_acl(doc: Document) -> list[str]:
    """Return the ``acl`` tokens of a document: who may see it."""
    if doc.visibility in ("public", "internal"):
        return [ALL]
    tokens = [RECORDS]
    if doc.created_by_id is not None:
        tokens.append(f"user:{doc.created_by_id}")
    tokens.extend(f"user:{grant.user_id}" for grant in doc.grants)
    if doc.visibility == "department":
        tokens.append(f"dept:{doc.department.code}")
    return sorted(set(tokens))


def can_view(user: User, doc: Document) -> bool:
    """True when user may see doc (its metadata, text and file)."""
    if doc.status != "active" and not is_records(user):
        return False
    return bool(user_tokens(user) & set(document_acl(doc)))


def can_register_for(user: User, department_id: int) -> bool:
    """True when user may register a document for that 課: its own staff, records staff, admins."""
    return is_records(user) or user.department_id == department_id


def can_edit(user: User, doc: Document) -> bool:
    """True when user may add a version: who may register for its 課, or its registrant."""
    return can_view(user, doc) and (can_register_for(user, doc.department_id) or doc.created_by_id == user.id)
