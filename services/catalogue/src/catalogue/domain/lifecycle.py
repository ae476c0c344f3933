"""What micro-credentials, stacks and offerings share: policy, statuses, refusals, lifecycle."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal, get_args

from catalogue.domain.language_names import english_display_name
from credstack.refusals import Reason, Refusal

DEFAULT_PASS_MARK = Decimal(70)
HOURS_PER_CREDIT_POINT = (Decimal(20), Decimal(23))
REVIEW_INTERVAL = timedelta(days=365)
Category = Literal["senior-executive-education", "professional-development", "personal-development"]
DeliveryMode = Literal["on-campus", "external-on-site", "synchronous-online"]
CATEGORIES: tuple[str, ...] = get_args(Category)
DELIVERY_MODES: tuple[str, ...] = get_args(DeliveryMode)
ONLINE = "synchronous-online"
UNDERGRADUATE_COURSE = re.compile(r"^[A-Z]{4}\s?([1-3])\d{3}[A-Z]?$")


@functools.lru_cache(maxsize=1024)  # langcodes takes ~0.1 ms a name; a page shows 20
def language_name(tag: str) -> str:
    """The language's English name (`zh-Hant-TW`: Chinese (Traditional, Taiwan)); the tag
    itself for one langcodes cannot read (never stored by this service: it is refused)."""
    try:
        return english_display_name(tag)
    except (ValueError, LookupError):
        return tag


CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")


@dataclass(frozen=True)
class Policy:
    """The centre's policy where it is a setting (`CATALOGUE_POLICY_*`); the defaults are
    the seed FAQ's (70% to pass, 20-23 notional hours per credit point, CEFR levels)."""

    min_pass_mark: Decimal = DEFAULT_PASS_MARK
    hours_per_credit_point: tuple[Decimal, Decimal] = HOURS_PER_CREDIT_POINT
    hours_per_credit_point_enforced: bool = False
    language_levels: tuple[str, ...] = CEFR_LEVELS


DEFAULT_POLICY = Policy()


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"
    DISESTABLISHED = "disestablished"


class CatalogueError(Refusal):
    """A request the catalogue's rules refuse."""

    code = "refused"
    reason = Reason.UNPROCESSABLE


class WrongStatus(CatalogueError):
    code = "wrong-status"
    reason = Reason.CONFLICT

    def __init__(self, action: str, status: Status) -> None:
        super().__init__(f"Cannot {action} an item that is {status.value}.")


class SelfApproval(CatalogueError):
    code = "self-approval"
    reason = Reason.FORBIDDEN

    def __init__(self) -> None:
        super().__init__("An approver cannot approve an item they proposed.")


class PolicyBreach(CatalogueError):
    """Every policy rule the item breaks, each as `rule-slug: explanation`."""

    code = "policy-breach"
    title = "Policy breach"

    def __init__(self, breaches: list[str]) -> None:
        super().__init__(f"The item breaks {len(breaches)} policy rule(s).", breaches=breaches)
        self.breaches = breaches


class InvalidOffering(CatalogueError):
    code = "invalid-offering"


class Lifecycle:
    """draft → submitted → approved (by someone else) → published → disestablished.

    A mixin for the dataclasses below, which define these three fields.
    """

    status: Status
    proposed_by: str
    approved_by: str | None

    def policy_breaches(self, policy: Policy = DEFAULT_POLICY) -> list[str]:
        raise NotImplementedError

    def submit(self, policy: Policy = DEFAULT_POLICY) -> None:
        """Submit for approval; submitting again (a client's retry) changes nothing."""
        if self.status is Status.SUBMITTED:
            return
        if self.status is not Status.DRAFT:
            raise WrongStatus("submit", self.status)
        if breaches := self.policy_breaches(policy):
            raise PolicyBreach(breaches)
        self.status = Status.SUBMITTED

    def return_to_draft(self) -> None:
        if self.status not in (Status.SUBMITTED, Status.APPROVED):
            raise WrongStatus("return to draft", self.status)
        self.status = Status.DRAFT
        self.approved_by = None

    def approve(self, approver: str, policy: Policy = DEFAULT_POLICY) -> None:
        """Approve; the same approver approving again (a retry) changes nothing."""
        if self.status is Status.APPROVED and self.approved_by == approver:
            return
        if self.status is not Status.SUBMITTED:
            raise WrongStatus("approve", self.status)
        if approver == self.proposed_by:
            raise SelfApproval()
        if breaches := self.policy_breaches(policy):
            raise PolicyBreach(breaches)
        self.status = Status.APPROVED
        self.approved_by = approver

    def _publish(self) -> None:
        if self.status is not Status.APPROVED:
            raise WrongStatus("publish", self.status)
        self.status = Status.PUBLISHED

    def check_editable(self) -> None:
        """Only a draft changes; a published version never does (revise it instead)."""
        if self.status is not Status.DRAFT:
            raise WrongStatus("edit", self.status)
