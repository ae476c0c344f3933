from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from credstack.testing import ServiceUnderTest, Tokens, running_service, service_settings
from enrolment import tables
from enrolment.main import create_app
from enrolment.settings import Settings

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
async def enrolment(
    database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> AsyncIterator[ServiceUnderTest]:
    settings = service_settings(
        Settings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        stripe_webhook_secrets=["whsec_old_secret", WEBHOOK_SECRET],
    )
    async for service in running_service(create_app, settings, tables.metadata, "enrolment"):
        yield service
