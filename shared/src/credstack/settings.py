"""Settings every service shares; each service subclasses with its own env prefix.

`DATABASE_URL` and `KAFKA_BOOTSTRAP_SERVERS` name the platform's servers for every
service at once; a service-prefixed variable (`ENROLMENT_DATABASE_URL`) overrides them
for one service, as production does when each service gets its own role.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLATFORM_WIDE = {
    "database_url": "DATABASE_URL",
    "migration_database_url": "DATABASE_URL",
    "kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    "kafka_idempotence": "KAFKA_IDEMPOTENCE",
    "auth_jwks_url": "AUTH_JWKS_URL",
    "dev_stack": "CREDSTACK_DEV_STACK",
    "trusted_proxies": "TRUSTED_PROXIES",
    "auth_max_token_lifetime_seconds": "AUTH_MAX_TOKEN_LIFETIME_SECONDS",
    "metrics_networks": "METRICS_NETWORKS",
    "metrics_token": "METRICS_TOKEN",
}


class MissingSetting(ValueError):
    """A setting that only the dev stack may leave unset is unset outside it."""

    def __init__(self, variable: str, why: str) -> None:
        super().__init__(f"{variable} is not set: {why} (only the dev stack may leave it unset)")


class ServiceSettings(BaseSettings):
    """Settings of one deployable service. Subclasses set `env_prefix` and `service_name`."""

    model_config = SettingsConfigDict(env_prefix="CREDSTACK_", extra="ignore")

    service_name: str = "credstack"
    schema_name: str = ""
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        description=(
            "PostgreSQL URL the service connects with (postgresql:// or postgresql+asyncpg://): "
            "<SERVICE>_DATABASE_URL, as the role credstack_<service>; else DATABASE_URL"
        ),
    )
    migration_database_url: str = Field(
        default="",
        description=(
            "PostgreSQL URL its migrations run with, as the owner role credstack_owner: "
            "<SERVICE>_MIGRATION_DATABASE_URL, else DATABASE_URL, else database_url"
        ),
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        description="Database connections this process keeps open (SQLAlchemy pool_size)",
    )
    db_max_overflow: int = Field(
        default=10,
        ge=0,
        description="Connections opened beyond the pool under load, closed when returned",
    )
    db_pool_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long a request waits for a free connection before it is refused "
        "with 503 and Retry-After (the service is busy; nothing was changed)",
    )
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_idempotence: bool = Field(
        default=True,
        description="Idempotent producer: on for Apache Kafka, off for the embedded Tansu broker",
    )
    public_url: str = "http://127.0.0.1:8000"
    auth_jwks_url: str = Field(
        default="",
        description="Where the bearer tokens' signing keys are published (https:// or file://)",
    )
    auth_issuer: str = "credstack-dev"
    auth_audience: str = "credstack"
    auth_max_token_lifetime_seconds: int = Field(
        default=24 * 3600,
        gt=0,
        description="Bearer tokens living longer than this (exp - iat) are refused with 401",
    )
    run_worker: bool = Field(
        default=True, description="Run the outbox relay and the event consumer in this process"
    )
    consumer_max_attempts: int = 5
    consumer_backoff_seconds: float = 0.2
    consumer_batch_size: int = Field(
        default=200,
        ge=1,
        description="Events applied per transaction (and per offset commit) from one "
        "partition; a failing batch is applied again one event at a time",
    )
    parked_retry_seconds: float = Field(
        default=30.0,
        description="First automatic retry of a parked event after this; then 4 times longer each",
    )
    parked_max_retries: int = Field(
        default=5, description="Automatic retries of a parked event before it waits for staff"
    )
    outbox_poll_seconds: float = 1.0
    outbox_retention_hours: float = Field(
        default=24.0,
        description="Published outbox rows are kept this long, and re-published in order "
        "if the broker loses its log within it",
    )
    broker_check_seconds: float = Field(
        default=5.0,
        description="How often the worker ensures the topics and checks that the broker "
        "still holds what it acknowledged",
    )
    data_dir: Path = Path(".data")
    rate_limits: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Overrides of the service's declared rate limits (JSON): 'METHOD /path-regex' -> "
            "a limit ('30/minute'), 'failures:10/minute' to count only 401/403 answers, or "
            "'off' (docs/security.md)"
        ),
    )
    rate_limit_clients: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Per-client limits (JSON): 'sub:<subject>', 'ip:<address>' or the bare subject "
            "or address -> a limit replacing every route's for that client, or 'off'"
        ),
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "Comma-separated addresses or networks of the reverse proxies whose "
            "X-Forwarded-For is believed (TRUSTED_PROXIES); empty: none"
        ),
    )
    metrics_networks: str = Field(
        default="127.0.0.0/8,::1",
        description=(
            "Comma-separated addresses or networks that may scrape GET /metrics directly "
            "(METRICS_NETWORKS; not through a proxy); empty: none"
        ),
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="A bearer token that may scrape GET /metrics from anywhere (METRICS_TOKEN)",
    )
    cors_origins: list[str] = Field(
        default=[],
        description="Origins whose browser pages may call this service (JSON list, e.g. "
        '["https://www.university.example"]); none: no cross-origin access',
    )
    cors_allow_localhost: bool = Field(
        default=False,
        description="In the dev stack only: also allow http://localhost on any port (a "
        "website developed locally)",
    )
    dev_stack: bool = Field(
        default=False,
        description=(
            "Set by `./dev up` and the tests (CREDSTACK_DEV_STACK): allows the dev-only "
            "fallbacks (a generated signing key, the local mail sink). Elsewhere a missing "
            "setting stops the service at start with the setting's name."
        ),
    )

    @property
    def owner_database_url(self) -> str:
        return self.migration_database_url or self.database_url

    @model_validator(mode="before")
    @classmethod
    def _platform_wide_fallbacks(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, variable in PLATFORM_WIDE.items():
                if name not in data and (value := os.environ.get(variable)):
                    data[name] = value
        return data
