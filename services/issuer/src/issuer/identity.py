"""Who issues: the profile every credential names, the public URL its documents live
under, and how it signs. Built once from settings and passed to the use cases."""

from __future__ import annotations

from dataclasses import dataclass

from issuer.keys import Signing
from issuer.standards.openbadges3 import IssuerProfile


@dataclass(frozen=True)
class Issuer:
    profile: IssuerProfile
    base_url: str
    signing: Signing

    def page_url(self, credential_id: object) -> str:
        """The credential's public verification page."""
        return f"{self.base_url}/verify/{credential_id}"
