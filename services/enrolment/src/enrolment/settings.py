from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from credstack.settings import MissingSetting, ServiceSettings

DEV_WEBHOOK_SECRET = "whsec_credstack_dev"
"""The dev stack's webhook secret: published in the docs, so never accepted with Stripe."""
_SHORTEST_STRIPE_SECRET = 24  # Stripe's are `whsec_` and 32 characters; placeholders are shorter


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ENROLMENT_", extra="ignore")

    service_name: str = "enrolment"
    schema_name: str = "enrolment"
    public_url: str = "http://127.0.0.1:8002"
    # The same 20 connections at most as the shared default (10 + 10 overflow), all kept:
    # under a cohort enrolling, the overflow's were opened and closed request after
    # request, each one connecting and preparing its statements again (docs/performance.md).
    db_pool_size: int = Field(default=20, ge=1, description="Database connections kept open")
    db_max_overflow: int = Field(
        default=0, ge=0, description="Connections opened beyond the pool under load"
    )
    payment_provider: Literal["local", "stripe"] = Field(
        default="local",
        description="`local`: the dev stack's checkout page; `stripe`: Stripe Checkout",
    )
    stripe_api_key: SecretStr | None = Field(
        default=None, description="Stripe secret key (sk_...), needed with payment_provider=stripe"
    )
    stripe_api_base: str | None = Field(
        default=None, description="Another base URL for Stripe's API (a proxy or a test double)"
    )
    stripe_webhook_secrets: list[SecretStr] = Field(
        default=[SecretStr(DEV_WEBHOOK_SECRET)],
        description="Webhook signing secrets; several during a rotation (JSON list). "
        "Required with payment_provider=stripe; the dev stack's default is refused there",
    )
    stripe_webhook_tolerance_seconds: int = Field(
        default=300,
        ge=1,
        le=3600,
        description="How far a webhook's signed timestamp may be from now, either way",
    )
    seat_hold_minutes: int = Field(
        default=30,
        ge=1,
        description="How long a seat is held for an unpaid enrolment (extended to the "
        "checkout session's lifetime when the provider needs longer)",
    )
    waitlist_offer_hours: float = Field(
        default=48, gt=0, description="How long a freed seat is held for a waitlisted learner"
    )
    sweep_seconds: float = Field(
        default=15, gt=0, description="How often expired holds, offers and due refunds are swept"
    )
    local_provider_poll_seconds: float = Field(
        default=0.5,
        gt=0,
        description="How often the local payment provider (dev stack) expires its sessions "
        "and retries its webhooks (a payer's action sends them at once)",
    )
    checkout_success_url: str | None = Field(
        default=None,
        description="Where the provider sends the learner after paying; {enrolment_id} is "
        "replaced (default: this service's /payments/return page)",
    )
    checkout_cancel_url: str | None = None
    language_entry_levels: list[str] = Field(
        default=["A1"],
        description="Levels a learner without previous experience of a language may enrol at",
    )
    assessment_url: str = Field(
        default="http://127.0.0.1:8003",
        description="The assessment service's URL: a learner's archive gathers its export",
    )
    issuer_url: str = "http://127.0.0.1:8004"
    dashboard_url: str = "http://127.0.0.1:8005"
    notifier_url: str = "http://127.0.0.1:8006"
    export_timeout_seconds: float = Field(
        default=20.0, gt=0, description="How long the archive waits for each service's export"
    )

    @model_validator(mode="after")
    def _payments_cannot_be_forged(self) -> "Settings":
        """Stripe only with its key and real webhook secrets; the local provider (which
        confirms payments nobody made) only in the dev stack."""
        if self.payment_provider == "stripe":
            if self.stripe_api_key is None:
                raise ValueError(
                    "ENROLMENT_STRIPE_API_KEY is required with payment_provider=stripe"
                )
            secrets = [s.get_secret_value() for s in self.stripe_webhook_secrets]
            if not secrets or any(
                s == DEV_WEBHOOK_SECRET or len(s) < _SHORTEST_STRIPE_SECRET for s in secrets
            ):
                raise ValueError(
                    "ENROLMENT_STRIPE_WEBHOOK_SECRETS must hold the signing secrets Stripe "
                    "gave this endpoint: the dev stack's published secret, a placeholder or "
                    "none would let anyone forge a payment"
                )
        elif not self.dev_stack:
            raise MissingSetting(
                "ENROLMENT_PAYMENT_PROVIDER=stripe",
                "the local payment provider confirms payments nobody made",
            )
        return self

    def export_sources(self) -> dict[str, str]:
        """The services whose exports a learner's archive gathers, by name."""
        return {
            "assessment": self.assessment_url,
            "issuer": self.issuer_url,
            "notifier": self.notifier_url,
            "dashboard": self.dashboard_url,
        }

    def success_url(self, enrolment_id: object) -> str:
        template = (
            self.checkout_success_url
            or f"{self.public_url}/payments/return?enrolment_id={{enrolment_id}}&outcome=paid"
        )
        return template.replace("{enrolment_id}", str(enrolment_id))

    def cancel_url(self, enrolment_id: object) -> str:
        template = (
            self.checkout_cancel_url
            or f"{self.public_url}/payments/return?enrolment_id={{enrolment_id}}&outcome=cancelled"
        )
        return template.replace("{enrolment_id}", str(enrolment_id))
