"""The assessment service's HTTP API: grade intake in the LMS formats, and staff's tools."""

from fastapi import APIRouter

from assessment.api import intake, placements, privacy, registry, results

routers: list[APIRouter] = [
    intake.router,
    registry.router,
    results.router,
    placements.router,
    privacy.router,
]
