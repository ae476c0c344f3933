"""When a learner's credentials complete a stack, and how far they are from it. No I/O.

A stack (``StackPublished``) is complete when ``required_count`` of its members (all of
them when None) are held, as credentials that are not revoked, and, when ``within_months``
is set, all earned within a window of that many months.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from dateutil.relativedelta import relativedelta

from issuer.standards.openbadges3 import HeldMember


@dataclass(frozen=True)
class StackRule:
    stack_id: UUID
    version: int
    members: tuple[UUID, ...]
    required_count: int | None
    within_months: int | None

    @classmethod
    def of(cls, snapshot: Mapping[str, Any]) -> StackRule:
        return cls(
            stack_id=UUID(str(snapshot["stack_id"])),
            version=int(snapshot["version"]),
            members=tuple(UUID(str(m)) for m in snapshot["members"]),
            required_count=snapshot.get("required_count"),
            within_months=snapshot.get("within_months"),
        )

    @property
    def required(self) -> int:
        return min(self.required_count or len(self.members), len(self.members))

    def completion(self, held: Sequence[HeldMember]) -> list[HeldMember] | None:
        """The member credentials that complete the stack (in member order), or None.

        Of several credentials for one member, the earliest that fits is used.
        """
        relevant = sorted(
            (h for h in held if h.micro_credential_id in self.members), key=lambda h: h.awarded_at
        )
        for start, first in enumerate(relevant):
            window_end = (
                first.awarded_at + relativedelta(months=self.within_months)
                if self.within_months
                else None
            )
            chosen: dict[UUID, HeldMember] = {}
            for candidate in relevant[start:]:
                if window_end is not None and candidate.awarded_at > window_end:
                    break
                chosen.setdefault(candidate.micro_credential_id, candidate)
            if len(chosen) >= self.required:
                return [chosen[m] for m in self.members if m in chosen]
            if window_end is None:
                return None
        return None

    def progress(self, held: Sequence[HeldMember]) -> dict[str, Any]:
        """What a learner holds towards this stack, for their record."""
        held_members = {
            h.micro_credential_id for h in held if h.micro_credential_id in self.members
        }
        return {
            "stack_id": str(self.stack_id),
            "version": self.version,
            "required": self.required,
            "within_months": self.within_months,
            "held": len(held_members),
            "members": [
                {"micro_credential_id": str(m), "held": m in held_members} for m in self.members
            ],
            "complete": self.completion(held) is not None,
        }
