"""Who may see and change a document: one rule, used by the database checks and the index ``acl``.

Visibility (秘区分):

* ``public`` (公開) and ``internal`` (庁内限り): every signed-in staff member.  They differ only in
  what may leave the office (public may be handed out), which this system does not decide.
* ``department`` (課内限り): staff of the document's 課, its registrant, explicitly granted
  people, records staff (role ``records``) and administrators (role ``admin``).
* ``secret`` (秘): its registrant, explicitly granted people, records staff and administrators.

A document the caller may not see is answered with 404, as if it did not exist.
"""

from __future__ import annotations

from docsearch.models import Document
from workspace.models import User

ALL = "all"
RECORDS = "role:records"


def is_records(user: User) -> bool:
    """True for records staff and administrators, who see and manage every document."""
    return user.has_role("records") or user.has_role("admin")


def user_tokens(user: User) -> set[str]:
    """Return the ``acl`` tokens a user holds (see ``docsearch.index``)."""
    tokens = {ALL, f"user:{user.id}"}
    if user.department is not None:
        tokens.add(f"dept:{user.department.code}")
    if is_records(user):
        tokens.add(RECORDS)
    return tokens


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
