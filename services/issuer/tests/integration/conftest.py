from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from credstack.contracts.envelope import Event
from credstack.testing import ServiceUnderTest, Tokens, deliver, running_service, service_settings
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


async def deliver_all(issuer: ServiceUnderTest, *events: Event) -> None:
    for event in events:
        await deliver(issuer.app, event)


async def issued(issuer: ServiceUnderTest, kind: str | None = None) -> list[Any]:
    """Credential rows, oldest first (optionally of one kind)."""
    query = select(tables.credential).order_by(tables.credential.c.issued_at)
    if kind is not None:
        query = query.where(tables.credential.c.kind == kind)
    async with issuer.engine.connect() as conn:
        return list((await conn.execute(query)).all())


async def verifier_documents(
    issuer: ServiceUnderTest, credential: dict[str, Any]
) -> dict[str, Any]:
    """The issuer's DID document and the credential's status list, as a verifier fetches them."""
    did_document = (await issuer.http.get("/.well-known/did.json")).json()
    documents = {did_document["id"]: did_document}
    if status := credential.get("credentialStatus"):
        url = status["statusListCredential"]
        documents[url] = (await issuer.http.get(url)).json()
    return documents
