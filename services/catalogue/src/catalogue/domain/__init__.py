"""Micro-credentials, stacks and offerings: the lifecycle and the policy rules. No I/O here.

The rules come from the university's micro-credential policy and FAQs
(`../shared/seeds/`): each is named by a stable slug so that a refusal can name every
rule an item breaks. `lifecycle` holds the policy settings, the statuses and the refusals
the three share; `micro_credentials`, `stacks` and `offerings` one aggregate each.
"""

from catalogue.domain.lifecycle import (
    CATEGORIES,
    CEFR_LEVELS,
    DEFAULT_PASS_MARK,
    DEFAULT_POLICY,
    DELIVERY_MODES,
    HOURS_PER_CREDIT_POINT,
    ONLINE,
    REVIEW_INTERVAL,
    UNDERGRADUATE_COURSE,
    CatalogueError,
    Category,
    DeliveryMode,
    InvalidOffering,
    Lifecycle,
    Policy,
    PolicyBreach,
    SelfApproval,
    Status,
    WrongStatus,
    language_name,
)
from catalogue.domain.micro_credentials import (
    MicroCredential,
    co_taught_undergraduate,
)
from catalogue.domain.offerings import (
    Offering,
    OfferingPlan,
    OfferingStatus,
    schedule_offering,
)
from catalogue.domain.sessions import Session
from catalogue.domain.stacks import (
    Stack,
    StackMember,
)

__all__ = [
    "CATEGORIES",
    "CEFR_LEVELS",
    "DEFAULT_PASS_MARK",
    "DEFAULT_POLICY",
    "DELIVERY_MODES",
    "HOURS_PER_CREDIT_POINT",
    "ONLINE",
    "REVIEW_INTERVAL",
    "UNDERGRADUATE_COURSE",
    "CatalogueError",
    "Category",
    "DeliveryMode",
    "InvalidOffering",
    "Lifecycle",
    "MicroCredential",
    "Offering",
    "OfferingPlan",
    "OfferingStatus",
    "Policy",
    "PolicyBreach",
    "SelfApproval",
    "Session",
    "Stack",
    "StackMember",
    "Status",
    "WrongStatus",
    "co_taught_undergraduate",
    "language_name",
    "schedule_offering",
]
