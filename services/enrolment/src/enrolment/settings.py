from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from credstack.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ENROLMENT_", extra="ignore")

    service_name: str = "enrolment"
    schema_name: str = "enrolment"
    public_url: str = "http://127.0.0.1:8002"
    stripe_webhook_secrets: list[SecretStr] = Field(
        default=[SecretStr("whsec_credstack_dev")],
        description="Webhook signing secrets; several during a rotation (JSON list)",
    )
    stripe_webhook_tolerance_seconds: int = 300
