"""Which handler applies each consumed event (catalogue, issuer and assessment facts).

The consumed topics follow from this table. Handlers that change enrolments take the
policy (a rescheduled capacity frees seats; a credential now held lifts staff approval).
"""

from functools import partial

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
from enrolment.usecases import offerings, readmodels
from enrolment.usecases.transitions import Policy


def handlers(policy: Policy) -> Handlers:
    return {
        MicroCredentialPublished: readmodels.micro_credential_published,
        OfferingScheduled: readmodels.offering_scheduled,
        OfferingRescheduled: partial(offerings.rescheduled, policy=policy),
        OfferingCancelled: offerings.cancelled,
        CredentialIssued: partial(readmodels.credential_held, policy=policy),
        StackCredentialIssued: partial(readmodels.credential_held, policy=policy),
        CredentialRevoked: readmodels.credential_status_changed,
        CredentialSuspended: readmodels.credential_status_changed,
        CredentialReinstated: readmodels.credential_status_changed,
        PlacementAssessed: readmodels.placement_assessed,
    }
