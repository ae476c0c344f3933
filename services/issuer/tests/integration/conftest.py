from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from credstack.testing import ServiceUnderTest, Tokens, running_service, service_settings
from issuer import tables
from issuer.main import create_app
from issuer.settings import Settings


@pytest.fixture
async def issuer(
    database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> AsyncIterator[ServiceUnderTest]:
    settings = service_settings(
        Settings,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
        public_url="http://localhost:8004",
    )
    async for service in running_service(create_app, settings, tables.metadata, "issuer"):
        yield service
