from pydantic import Field
from pydantic_settings import SettingsConfigDict

from credstack.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOGUE_", extra="ignore")

    service_name: str = "catalogue"
    schema_name: str = "catalogue"
    public_url: str = "http://127.0.0.1:8001"
    cors_allow_localhost: bool = Field(
        default=True,
        description="In the dev stack only: the public website developed on http://localhost "
        "(any port) may call the catalogue; elsewhere list the website in CATALOGUE_CORS_ORIGINS",
    )
    load_sample_catalogue: bool = Field(
        default=False, description="Load the demo catalogue into an empty catalogue (dev stack)"
    )
    enrolment_announce_seconds: float = Field(
        default=30.0, gt=0, description="How often offerings whose enrolment opened are announced"
    )
