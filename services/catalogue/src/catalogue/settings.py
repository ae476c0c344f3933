from pydantic import Field
from pydantic_settings import SettingsConfigDict

from credstack.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOGUE_", extra="ignore")

    service_name: str = "catalogue"
    schema_name: str = "catalogue"
    public_url: str = "http://127.0.0.1:8001"
    load_sample_catalogue: bool = Field(
        default=False, description="Load the demo catalogue into an empty catalogue (dev stack)"
    )
    enrolment_announce_seconds: float = Field(
        default=30.0, gt=0, description="How often offerings whose enrolment opened are announced"
    )
