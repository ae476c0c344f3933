"""The assessment service's HTTP API: grade intake in the LMS formats, and staff's tools."""

from fastapi import APIRouter

from assessment.api import (
    activities,
    attendance,
    decisions,
    intake,
    integrity,
    lms_clients,
    operations,
    placements,
    privacy,
    quarantine,
    results,
    rosters,
)

routers: list[APIRouter] = [
    intake.router,
    lms_clients.router,
    rosters.router,
    quarantine.router,
    activities.router,
    results.router,
    integrity.router,
    attendance.router,
    decisions.router,
    operations.router,
    placements.router,
    privacy.router,
]
