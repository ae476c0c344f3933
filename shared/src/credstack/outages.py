"""Outages: a database or broker that is unreachable, reported once per interval.

A request that meets an outage answers 503 with `Retry-After` (a problem detail, no
traceback); the outage itself is logged once per `INTERVAL_SECONDS` per kind with how
many times it was met since, instead of once per request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger()

INTERVAL_SECONDS = 30.0
RETRY_AFTER_SECONDS = 5


@dataclass
class OutageLog:
    """Logs each kind of outage at most once per interval."""

    interval: float = INTERVAL_SECONDS
    _last: dict[str, float] = field(default_factory=dict)
    _suppressed: dict[str, int] = field(default_factory=dict)

    def report(self, kind: str, error: BaseException, **facts: object) -> bool:
        """Note one encounter with an outage; True when this one was logged."""
        moment = time.monotonic()
        last = self._last.get(kind)
        if last is not None and moment - last < self.interval:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return False
        self._last[kind] = moment
        message = str(error).splitlines()[0] if str(error) else ""
        log.warning(
            f"outage.{kind}",
            error=f"{type(error).__name__}: {message}",
            suppressed_since_last=self._suppressed.pop(kind, 0),
            **facts,
        )
        return True


OUTAGES = OutageLog()


def kind_of(error: BaseException) -> str:
    """`broker` for Kafka errors, else `database` (the services' other dependency)."""
    from aiokafka.errors import KafkaError

    chain: BaseException | None = error
    while chain is not None:
        if isinstance(chain, KafkaError):
            return "broker"
        chain = chain.__cause__
    return "database"
