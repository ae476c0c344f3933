from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from credstack.testing import ServiceUnderTest, Tokens, running_service, service_settings
from enrolment import tables
from enrolment.main import create_app
from enrolment.settings import Settings

from .steps import DECLARATION, WEBHOOK_SECRET


@pytest.fixture
async def enrolment(
    database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> AsyncIterator[ServiceUnderTest]:
    """The enrolment service (local payment provider) with a current integrity declaration."""
    settings = service_settings(
        Settings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        stripe_webhook_secrets=["whsec_old_secret", WEBHOOK_SECRET],
        public_url="http://enrolment.test",
    )
    async for service in running_service(create_app, settings, tables.metadata, "enrolment"):
        published = await service.http.post(
            "/academic-integrity/declarations", json={"text": DECLARATION}, headers=tokens("staff")
        )
        assert published.status_code == 201, published.text
        yield service
