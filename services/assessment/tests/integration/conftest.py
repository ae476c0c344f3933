from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assessment import tables
from assessment.main import create_app
from assessment.settings import Settings
from credstack.testing import ServiceUnderTest, Tokens, running_service, service_settings


@pytest.fixture
async def assessment(
    database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> AsyncIterator[ServiceUnderTest]:
    settings = service_settings(
        Settings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
    )
    async for service in running_service(create_app, settings, tables.metadata, "assessment"):
        yield service
