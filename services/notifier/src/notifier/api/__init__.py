"""The notifier's HTTP API, one module per concern (paired with `notifier.usecases`)."""

from fastapi import APIRouter

from notifier.api import interest, learners, operations, privacy, staff

routers: list[APIRouter] = [
    interest.router,
    learners.router,
    staff.router,
    privacy.router,
    operations.router,
]
