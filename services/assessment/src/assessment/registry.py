"""The registry of LMS integrations: who may post grades, how they prove it, for which
offerings. No I/O here.

Each kind authenticates the way its standard does: OAuth2 bearer tokens from the
platform's identity provider (`lti`, `native`: the token names the client id), a Caliper
sensor's API key (`caliper`), HTTP Basic (`xapi`), the webhook's shared token
(`moodle`). Inbound secrets are stored only as SHA-256 hashes: they are long random
strings (generated, or at least `MIN_SECRET_LENGTH` characters), so a fast hash is
enough and lets a key be looked up by its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from credstack.refusals import Reason, Refusal

MIN_SECRET_LENGTH = 16


class ClientKind(StrEnum):
    LTI = "lti"
    NATIVE = "native"
    CALIPER = "caliper"
    XAPI = "xapi"
    MOODLE = "moodle"

    @property
    def uses_bearer_tokens(self) -> bool:
        return self in (ClientKind.LTI, ClientKind.NATIVE)

    @property
    def uses_secret(self) -> bool:
        return not self.uses_bearer_tokens


class LearnerIds(StrEnum):
    """How an LMS names its learners: by its own ids (`lms`, linked to enrolments by roster
    links), or by the subject of the identity provider it signs them in with, as Credstack
    does (`identity-provider`: a learner with no link is linked automatically)."""

    LMS = "lms"
    IDENTITY_PROVIDER = "identity-provider"


class RegistrationError(Refusal):
    """A registration that cannot work as given; the message says what is missing."""

    code = "unprocessable"
    reason = Reason.UNPROCESSABLE


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and hmac.compare_digest(hash_secret(secret), stored_hash)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class LmsClient:
    id: str
    kind: ClientKind
    name: str
    offering_ids: frozenset[UUID]
    active: bool = True
    lti_issuer: str | None = None
    lti_deployment_id: str | None = None
    moodle_url: str | None = None
    learner_ids: LearnerIds = LearnerIds.LMS

    @property
    def links_by_identity_provider(self) -> bool:
        return self.learner_ids is LearnerIds.IDENTITY_PROVIDER

    def serves(self, offering_id: UUID) -> bool:
        return offering_id in self.offering_ids

    def check(self) -> None:
        """Raise if the registration lacks what its kind needs."""
        if self.kind is ClientKind.LTI and not (self.lti_issuer and self.lti_deployment_id):
            raise RegistrationError(
                "An LTI client is one platform deployment: give lti_issuer and "
                "lti_deployment_id (the learner's subject is unique within them)."
            )
        if self.kind is not ClientKind.LTI and (self.lti_issuer or self.lti_deployment_id):
            raise RegistrationError("lti_issuer and lti_deployment_id are for LTI clients only.")
        if self.kind is ClientKind.MOODLE and not self.moodle_url:
            raise RegistrationError(
                "A Moodle client needs moodle_url, the site its grades are fetched from."
            )
        if self.kind is not ClientKind.MOODLE and self.moodle_url:
            raise RegistrationError("moodle_url is for Moodle clients only.")
        if self.links_by_identity_provider and self.kind is ClientKind.NATIVE:
            raise RegistrationError(
                "A native client names our enrolments; learner_ids is for LMS formats."
            )
        if self.links_by_identity_provider and self.kind is ClientKind.MOODLE:
            raise RegistrationError(
                "Moodle names learners by its own numeric user id, never the identity "
                "provider's subject: keep learner_ids 'lms' and link rosters."
            )


def chosen_secret(kind: ClientKind, given: str | None) -> str | None:
    """The secret to register: the one given (long enough), or a new one if the kind
    needs a secret; None for kinds that authenticate with bearer tokens."""
    if not kind.uses_secret:
        if given is not None:
            raise RegistrationError(
                f"A {kind} client authenticates with bearer tokens from the identity "
                "provider, not a secret."
            )
        return None
    if given is None:
        return new_secret()
    if len(given) < MIN_SECRET_LENGTH:
        raise RegistrationError(f"A secret must have at least {MIN_SECRET_LENGTH} characters.")
    return given
