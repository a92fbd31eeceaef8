"""The merge rules both paths of the engine share: what an entry is, and whether a source may write a field.

`service.apply_record` applies them to one entry (SCIM, the review queue); `bulk.apply_page` to a page of entries
at once (LDAP and CSV syncs). Keeping the rules here keeps the two paths from drifting apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from socius.people import service as people

LINKABLE = ("email", "employee_number")
# Fields a source may set, in profile terms; the manager comes separately, as the manager's external id.
SOURCE_FIELDS = tuple(f for f in people.DIRECTORY_FIELDS if f != "manager_id")
# Linking an entry to a person by e-mail compares addresses the way they are stored: trimmed and lower-case.
NORMALISE = {"email": lambda v: v.strip().lower(), "employee_number": lambda v: v.strip()}


@dataclass
class Record:
    """One entry of a source, already mapped to profile fields."""

    external_id: str
    values: dict[str, Any]
    manager_external_id: str | None = None
    active: bool = True
    # What the identity keeps of the entry for the source's own protocol (LDAP: its DN), added to what it keeps.
    raw: dict[str, Any] | None = None
    _source_values: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def source_values(self) -> dict[str, Any]:
        """The values a source may set (a sync asks for them several times an entry)."""
        if self._source_values is None:
            self._source_values = {k: v for k, v in self.values.items() if k in SOURCE_FIELDS}
        return dict(self._source_values)


@dataclass
class Outcome:
    action: str  # added | merged | updated | unchanged | review | deactivated | reactivated
    person_id: int | None = None
    identity_id: int | None = None
    skipped: dict[str, str] = field(default_factory=dict)  # field → why it was not written
    errors: list[dict] = field(default_factory=list)  # row-level problems, as a sync reports them
    identity: Any = None  # the identity as stored (service.STORED_COLUMNS); None when the entry went to review


def lookup_key(attribute: str, value: Any) -> str | None:
    """The stored form of a linkable value, or None when there is nothing to look up."""
    if not isinstance(value, str) or not value.strip():
        return None
    return NORMALISE[attribute](value)


def refusal(source_id: int, source_precedence: int, owner: Any, precedence: dict[int, int]) -> str | None:
    """Why a source may not write a field whose provenance row is `owner` (None: it may).

    `owner` has `source_id` (None for a hand edit) and `locked`; `precedence` maps source ids to precedence."""
    if owner is None:
        return None
    if owner.source_id is None and not owner.locked:
        return "edited_by_hand"
    if owner.source_id not in (None, source_id) and precedence.get(owner.source_id, 0) >= source_precedence:
        return "higher_precedence"
    return None
