"""The approval engine's view of the directory: :class:`approvals.resolution.Directory` over the database.

Resolution works on frozen :class:`Person` snapshots; this adapter turns the workspace's ``User`` rows
into them and answers the relation lookups with :mod:`workspace.directory`, whose configuration
(``SECTION_CHIEF_TITLES``, ``DEPARTMENT_HEAD_TITLES``) decides which titles count as 係長 and 課長.
Inactive users are never returned, so a departed approver is an error at submission, not a stuck step.
"""

from __future__ import annotations

from approvals.resolution import Person
from workspace import directory
from workspace.models import User


def person_of(user: User) -> Person:
    """Return the snapshot of ``user`` frozen into a route (department is the 課, not the 係)."""
    dept = user.department
    return Person(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        department_code=dept.code if dept else None,
        department_name=dept.name if dept else None,
        title=user.title,
    )


def _people(users: list[User]) -> list[Person]:
    return [person_of(u) for u in users if u.active]


class DbDirectory:
    """Implements the resolution ``Directory`` protocol against the synced directory tables."""

    def _user(self, person: Person) -> User | None:
        return directory.get_user_by_id(person.id)

    def section_chief_of(self, person: Person) -> Person | None:
        """Return the 係長 of the person's 係 (or 課 without 係), or None when vacant or ambiguous."""
        user = self._user(person)
        chief = directory.section_chief_of(user) if user is not None else None
        return person_of(chief) if chief is not None else None

    def department_head_of(self, person: Person) -> Person | None:
        """Return the 課長 of the person's 課, or None."""
        user = self._user(person)
        head = directory.department_head_of(user) if user is not None else None
        return person_of(head) if head is not None else None

    def by_title(self, title: str) -> list[Person]:
        """Return every active user with ``title`` (e.g. 村長), by id."""
        return _people(directory.users_with_title(title))

    def by_department_title(self, code: str, title: str) -> list[Person]:
        """Return the active users with ``title`` in the department with ``code``."""
        return _people(directory.users_with_title(title, code))

    def by_username(self, username: str) -> Person | None:
        """Return the active user ``username``, or None."""
        user = directory.get_user(username)
        return person_of(user) if user is not None and user.active else None
