"""Consumed contract -> use case. The topics follow from the types: the enrolment
service's contact topic (`enrolment.contacts`) for addresses, the issuer's
(`issuer.claims`) for wallet claim offers, every producer's events for what messages are
about."""

from credstack.kafka import Handlers
from notifier.usecases.events import HANDLERS


def handlers() -> Handlers:
    return HANDLERS
