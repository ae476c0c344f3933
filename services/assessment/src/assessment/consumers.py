from assessment.usecases import privacy, readmodels
from credstack.contracts.catalogue import MicroCredentialPublished, OfferingScheduled
from credstack.contracts.enrolment import (
    EnrolmentCancelled,
    EnrolmentConfirmed,
    EnrolmentTransferred,
    EnrolmentWithdrawn,
    LearnerDataErased,
)
from credstack.kafka import Handlers

HANDLERS: Handlers = {
    MicroCredentialPublished: readmodels.micro_credential_published,
    OfferingScheduled: readmodels.offering_scheduled,
    EnrolmentConfirmed: readmodels.enrolment_confirmed,
    EnrolmentCancelled: readmodels.enrolment_cancelled,
    EnrolmentWithdrawn: readmodels.enrolment_withdrawn,
    EnrolmentTransferred: readmodels.enrolment_transferred,
    LearnerDataErased: privacy.learner_data_erased,
}
