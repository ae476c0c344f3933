"""Which handler applies each consumed event (catalogue, issuer and assessment facts)."""

from credstack.contracts.assessment import PlacementAssessed
from credstack.contracts.catalogue import (
    MicroCredentialPublished,
    OfferingCancelled,
    OfferingRescheduled,
    OfferingScheduled,
)
from credstack.contracts.issuer import (
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    StackCredentialIssued,
)
from credstack.kafka import Handlers
from enrolment import projections
from enrolment.usecases import Policy


def handlers(policy: Policy) -> Handlers:
    effects = projections.EnrolmentEffects(policy)
    return {
        MicroCredentialPublished: projections.micro_credential_published,
        OfferingScheduled: projections.offering_scheduled,
        OfferingRescheduled: effects.rescheduled,
        OfferingCancelled: effects.cancelled,
        CredentialIssued: effects.credential_held,
        StackCredentialIssued: effects.credential_held,
        CredentialRevoked: projections.credential_status_changed,
        CredentialSuspended: projections.credential_status_changed,
        CredentialReinstated: projections.credential_status_changed,
        PlacementAssessed: projections.placement_assessed,
    }
