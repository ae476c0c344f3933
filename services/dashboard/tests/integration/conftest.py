from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from credstack.testing import ServiceUnderTest, Tokens, running_service, service_settings
from dashboard import tables
from dashboard.main import create_app
from dashboard.settings import Settings


@pytest.fixture
def dashboard_settings(
    database_url: str, kafka_bootstrap: str, tokens: Tokens, tmp_path: Path
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        settings: Settings = service_settings(
            Settings,
            database_url=database_url,
            kafka_bootstrap=kafka_bootstrap,
            tokens=tokens,
            data_dir=tmp_path,
            **{"stream_heartbeat_seconds": 1.0, "stream_poll_seconds": 0.5, **overrides},
        )
        return settings

    return make


@pytest.fixture
async def dashboard(dashboard_settings: Callable[..., Settings]) -> AsyncIterator[ServiceUnderTest]:
    async for service in running_service(
        create_app, dashboard_settings(), tables.metadata, "dashboard"
    ):
        yield service
