from catalogue import seats
from credstack.contracts.enrolment import (
    EnrolmentCancelled,
    EnrolmentConfirmed,
    EnrolmentTransferred,
    EnrolmentWithdrawn,
)
from credstack.kafka import Handlers

HANDLERS: Handlers = {
    EnrolmentConfirmed: seats.enrolment_confirmed,
    EnrolmentCancelled: seats.enrolment_released,
    EnrolmentWithdrawn: seats.enrolment_released,
    EnrolmentTransferred: seats.enrolment_transferred,
}
