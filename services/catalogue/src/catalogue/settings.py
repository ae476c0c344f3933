from pydantic_settings import SettingsConfigDict

from credstack.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOGUE_", extra="ignore")

    service_name: str = "catalogue"
    schema_name: str = "catalogue"
    public_url: str = "http://127.0.0.1:8001"
