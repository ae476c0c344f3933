from decimal import Decimal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from catalogue.domain import CEFR_LEVELS, DEFAULT_PASS_MARK, HOURS_PER_CREDIT_POINT, Policy
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
    policy_min_pass_mark: Decimal = Field(
        default=DEFAULT_PASS_MARK,
        gt=0,
        le=100,
        description="The lowest pass mark (percent) an item may set (the seed FAQ: 70)",
    )
    policy_hours_per_credit_point_min: Decimal = Field(default=HOURS_PER_CREDIT_POINT[0], gt=0)
    policy_hours_per_credit_point_max: Decimal = Field(default=HOURS_PER_CREDIT_POINT[1], gt=0)
    policy_hours_per_credit_point_enforced: bool = Field(
        default=False,
        description="Refuse items outside the notional-hours guideline (else only a warning)",
    )
    policy_language_levels: list[str] = Field(
        default=list(CEFR_LEVELS), description="The levels a language micro-credential may state"
    )

    def policy(self) -> Policy:
        return Policy(
            min_pass_mark=self.policy_min_pass_mark,
            hours_per_credit_point=(
                self.policy_hours_per_credit_point_min,
                self.policy_hours_per_credit_point_max,
            ),
            hours_per_credit_point_enforced=self.policy_hours_per_credit_point_enforced,
            language_levels=tuple(self.policy_language_levels),
        )
