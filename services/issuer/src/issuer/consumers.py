"""Consumed contract -> use case. MicroCredentialDisestablished is not consumed: credentials
already earned stay valid, and the issuer keeps the version it needs."""

from credstack.contracts.enrolment import LearnerErased
from credstack.kafka import Handlers
from issuer.identity import Issuer
from issuer.usecases import issuing, privacy, status


def handlers(issuer: Issuer) -> Handlers:
    return {
        **issuing.handlers(issuer),
        **status.handlers(issuer),
        LearnerErased: privacy.learner_erased,
    }
