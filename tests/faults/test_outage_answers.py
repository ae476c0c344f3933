"""While the database is unreachable, requests answer 503 problem details with Retry-After,
readiness is false, and the outage is logged once per interval, not once per request."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from assessment.main import create_app
from assessment.settings import Settings
from credstack import engines
from credstack.outages import OUTAGES
from credstack.testing import Tokens, service_settings


async def test_a_database_outage_answers_503_with_retry_after_and_logs_once(
    tokens: Tokens, kafka_bootstrap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"postgresql://postgres@127.0.0.1:{engines.free_port()}/nowhere"
    settings = service_settings(
        Settings,
        database_url=dead,
        kafka_bootstrap=kafka_bootstrap,
        tokens=tokens,
        data_dir=tmp_path,
    )
    app = create_app(settings)
    OUTAGES._last.clear()
    async with LifespanManager(app, startup_timeout=30):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            answers = [await http.get("/lms-clients", headers=tokens("staff")) for _ in range(20)]
            ready = await http.get("/readyz")
    assert {a.status_code for a in answers} == {503}
    problem = answers[0].json()
    assert answers[0].headers["content-type"] == "application/problem+json"
    assert answers[0].headers["retry-after"] == "5"
    assert problem["type"].endswith("/service-unavailable") and problem["status"] == 503
    assert "database" in problem["detail"] and "Traceback" not in answers[0].text
    assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("unreachable")
    printed = capsys.readouterr()
    lines = (printed.out + printed.err).splitlines()
    outage_logs = [line for line in lines if '"event": "outage.database"' in line]
    assert not [line for line in lines if "Traceback" in line]
    assert len(outage_logs) == 1  # 20 requests, one line
