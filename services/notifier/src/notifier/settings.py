from urllib.parse import urlparse

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from credstack.settings import MissingSetting, ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore")

    service_name: str = "notifier"
    schema_name: str = "notifier"
    public_url: str = "http://127.0.0.1:8006"
    issuer_url: str = Field(
        default="http://127.0.0.1:8004", description="Where learners' credentials are served"
    )
    website_url: str = Field(
        default="http://127.0.0.1:8001", description="The public catalogue, linked from messages"
    )
    organisation_name: str = "Credstack University, Centre for Continuing Education"
    smtp_host: str | None = Field(
        default=None,
        description=(
            "SMTP server for learner email. Only the dev stack may leave it unset (the "
            "notifier then runs a local sink that keeps every message in <data dir>/mailbox, "
            "read by staff at GET /admin/mailbox); elsewhere the notifier refuses to start."
        ),
    )
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_start_tls: bool = True
    mail_from: str = "Credstack <learners@credstack.dev>"
    email_poll_seconds: float = Field(default=1.0, gt=0, description="The sender's interval")
    max_attempts: int = Field(
        default=8, ge=1, description="Sending attempts before a message is marked failed"
    )
    expiry_reminder_days: int = Field(
        default=30,
        ge=1,
        description="How many days before a credential's validUntil it is reminded of",
    )
    reminder_poll_seconds: float = Field(
        default=3600.0, gt=0, description="How often the expiry reminder loop looks"
    )
    result_first_wait_seconds: float = Field(
        default=600.0,
        ge=0,
        description="How long a credential email waits for the learner's result message to "
        "go first (results and credentials arrive on different topics, in no fixed order)",
    )
    wallet_claim_wait_seconds: float = Field(
        default=600.0,
        ge=0,
        description=(
            "How long a credential_issued email waits for the issuer's wallet claim offer "
            "(issuer.claims) before it leaves without the wallet link"
        ),
    )

    def check(self) -> None:
        if self.smtp_host is None and not self.dev_stack:
            raise MissingSetting("NOTIFIER_SMTP_HOST", "learner email has nowhere to go")

    @property
    def mail_domain(self) -> str:
        """The right-hand side of Message-IDs: the notifier's public host."""
        return urlparse(self.public_url).hostname or "localhost"
