from assessment import usecases
from credstack.contracts.catalogue import MicroCredentialPublished
from credstack.contracts.enrolment import EnrolmentConfirmed
from credstack.kafka import Handlers

HANDLERS: Handlers = {
    MicroCredentialPublished: usecases.micro_credential_published,
    EnrolmentConfirmed: usecases.enrolment_confirmed,
}
