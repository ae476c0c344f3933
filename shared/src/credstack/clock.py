from datetime import UTC, datetime


def now() -> datetime:
    """The current time, timezone-aware (UTC). Domain code takes time as an argument."""
    return datetime.now(UTC)
