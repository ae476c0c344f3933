from typing import Literal
from urllib.parse import quote, urlparse

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from credstack.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ISSUER_", extra="ignore")

    service_name: str = "issuer"
    schema_name: str = "issuer"
    public_url: str = "http://127.0.0.1:8004"
    issuer_name: str = "Credstack University, Centre for Continuing Education"
    issuer_url: str = "https://credstack.dev"
    did_method: Literal["web", "key"] = Field(
        default="web",
        description=(
            "web: the issuer is did:web of ISSUER_PUBLIC_URL (an institution). key: did:key "
            "of the newest signing key, resolved offline (tests, small deployments; a key "
            "rotation then changes the DID)"
        ),
    )
    vcapi_open_issuing: bool = Field(
        default=False,
        description=(
            "Dev stack only: POST /credentials/issue without a token, for the W3C test "
            "suites (which send none); elsewhere the issuer refuses to start with it set"
        ),
    )
    issuer_email: str | None = Field(
        default=None,
        description=(
            "The issuer profile's contact email (OB 2.0 requires one); defaults to "
            "credentials@<the host of ISSUER_ISSUER_URL>"
        ),
    )
    signing_keys: list[SecretStr] = Field(
        default=[],
        description=(
            "Ed25519 secret keys as Multikey (z3u2...), newest last; the newest signs, "
            "older ones stay in the DID document so credentials they signed still verify. "
            "Only the dev stack may leave it empty (a key is generated and kept in the data "
            "folder); elsewhere the issuer refuses to start without it."
        ),
    )
    jwt_keys: list[SecretStr] = Field(
        default=[],
        description=(
            "RSA private keys (PEM, 2048 bits or more), newest last, that sign the VC-JWT "
            "form (RS256, the OB 3.0 JWT profile); each is published as a JWK. Only the dev "
            "stack may leave it empty (a key is generated and kept in the data folder)."
        ),
    )
    signing_workers: int = Field(
        default=0,
        ge=0,
        description=(
            "Processes that canonicalize and sign credentials, so issuing uses more than one "
            "core (JSON-LD canonicalization is pure Python and holds the GIL). 0 signs in the "
            "service's own process."
        ),
    )

    @property
    def did(self) -> str:
        """did:web of the public URL: host (port %-encoded) then path segments."""
        url = urlparse(self.public_url)
        host = quote(url.netloc, safe="")
        path = ":".join(segment for segment in url.path.split("/") if segment)
        return f"did:web:{host}" + (f":{path}" if path else "")

    @property
    def contact_email(self) -> str:
        """The profile's email: ISSUER_ISSUER_EMAIL, else credentials@<issuer_url host>."""
        return self.issuer_email or f"credentials@{urlparse(self.issuer_url).hostname}"
