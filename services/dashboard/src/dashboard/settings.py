from pydantic import Field
from pydantic_settings import SettingsConfigDict

from credstack.settings import MissingSetting, ServiceSettings

DEV_TICKET_SECRET = "credstack-dev-stream-tickets"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DASHBOARD_", extra="ignore")

    service_name: str = "dashboard"
    schema_name: str = "dashboard"
    public_url: str = "http://127.0.0.1:8005"
    catalogue_url: str = "http://127.0.0.1:8001"
    enrolment_url: str = "http://127.0.0.1:8002"
    assessment_url: str = "http://127.0.0.1:8003"
    issuer_url: str = "http://127.0.0.1:8004"
    log_retention_days: float = Field(
        default=90.0,
        description="How long the event log keeps an event; an older cursor gets a `reset`",
    )
    stream_ticket_secret: str = Field(
        default="",
        description="HMAC key of stream tickets; the same on every replica",
    )
    stream_ticket_seconds: int = Field(default=60, ge=5, le=3600)
    stream_heartbeat_seconds: float = Field(default=15.0, gt=0)
    stream_poll_seconds: float = Field(
        default=2.0, gt=0, description="Fallback poll of the log when no NOTIFY arrives"
    )
    stream_buffer_size: int = Field(
        default=2000, ge=10, description="Newest log rows each replica keeps in memory"
    )
    credential_overdue_minutes: float = Field(
        default=5.0, description="A pass with no credential after this long needs attention"
    )
    service_timeout_seconds: float = 10.0

    def ticket_secret(self) -> str:
        if self.stream_ticket_secret:
            return self.stream_ticket_secret
        if self.dev_stack:
            return DEV_TICKET_SECRET
        raise MissingSetting("DASHBOARD_STREAM_TICKET_SECRET", "stream tickets are signed with it")

    def service_urls(self) -> dict[str, str]:
        return {
            "catalogue": self.catalogue_url,
            "enrolment": self.enrolment_url,
            "assessment": self.assessment_url,
            "issuer": self.issuer_url,
        }
