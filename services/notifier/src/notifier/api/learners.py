"""A signed-in learner's message preferences."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from credstack.auth import Principal, learner_id_for, require
from credstack.clock import now
from credstack.service import Engine
from notifier import repository
from notifier.compose import shipped_languages
from notifier.usecases import learners

router = APIRouter(tags=["learners"])
LEARNER = require("learner")


class PreferencesView(BaseModel):
    language: str | None = Field(
        default=None,
        max_length=35,
        description="Language of your messages (en, fr); none: the course's, else English",
    )
    reminders: bool = Field(default=True, description="Optional reminders (never receipts)")
    languages: list[str] = Field(default=[], description="Languages messages are written in")


class PreferencesRequest(BaseModel):
    language: str | None = Field(default=None, max_length=35)
    reminders: bool = True


def _view(chosen: repository.Preferences) -> PreferencesView:
    return PreferencesView(
        language=chosen.language,
        reminders=chosen.reminders,
        languages=sorted(shipped_languages()),
    )


@router.get("/learners/me/preferences", summary="Your message preferences")
async def my_preferences(engine: Engine, learner: Principal = LEARNER) -> PreferencesView:
    async with engine.connect() as conn:
        return _view(await repository.preferences_of(conn, learner_id_for(learner.subject)))


@router.put("/learners/me/preferences", summary="Choose your message preferences")
async def choose_preferences(
    body: PreferencesRequest, engine: Engine, learner: Principal = LEARNER
) -> PreferencesView:
    async with engine.begin() as conn:
        chosen = await learners.choose(
            conn,
            learner_id_for(learner.subject),
            repository.Preferences(body.language, body.reminders),
            now(),
        )
    return _view(chosen)
