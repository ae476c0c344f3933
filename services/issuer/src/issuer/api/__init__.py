"""The issuer's HTTP API, one module per concern (paired with `issuer.usecases.<same>` where
it has use cases): issuing, status, learner_records, and the public documents (public,
images, verification); operations for the reconciler. Learner email is the notifier's."""

from fastapi import APIRouter

from issuer.api import (
    claims,
    images,
    issuing,
    jwks,
    learner_records,
    oid4vci,
    operations,
    privacy,
    public,
    status,
    vcapi,
    verification,
)

routers: list[APIRouter] = [
    issuing.router,
    status.router,
    verification.router,
    learner_records.router,
    operations.router,
    public.router,
    images.router,
    jwks.router,
    vcapi.router,
    claims.router,
    oid4vci.router,
    privacy.router,
]
