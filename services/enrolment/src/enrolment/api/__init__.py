"""The enrolment service's HTTP API: learners and the integrity declaration, enrolments,
staff's decisions and rosters, the payment provider's webhooks and (dev stack) checkout."""

from fastapi import APIRouter

from enrolment.api import (
    enrolments,
    learners,
    local_checkout,
    operations,
    payments,
    privacy,
    rosters,
    staff,
)

routers: list[APIRouter] = [
    learners.router,
    enrolments.router,
    staff.router,
    rosters.router,
    payments.router,
    local_checkout.router,
    operations.router,
    privacy.router,
]
