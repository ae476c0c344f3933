from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from credstack.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ASSESSMENT_", extra="ignore")

    service_name: str = "assessment"
    schema_name: str = "assessment"
    public_url: str = "http://127.0.0.1:8003"
    moodle_ws_tokens: dict[str, SecretStr] = Field(
        default={},
        description="Moodle web service tokens by LMS client id (JSON), to fetch grades with",
    )
    moodle_timeout_seconds: float = 10.0
    moodle_retry_poll_seconds: float = Field(
        default=15.0, description="How often notifications whose grade fetch failed are retried"
    )
