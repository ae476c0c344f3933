from pydantic_settings import SettingsConfigDict

from credstack.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ASSESSMENT_", extra="ignore")

    service_name: str = "assessment"
    schema_name: str = "assessment"
    public_url: str = "http://127.0.0.1:8003"
