"""Consumed events -> their handlers (in `from_<producer>`). Each handler records what
the learner page and later messages need, and stages the message it calls for, once per
cause (`dedup_key`): a redelivered or re-published event stages nothing new. Facts are
what the template needs beyond the learner's contact details and titles, which are looked
up when the message is sent."""

from __future__ import annotations

from credstack.contracts.assessment import AssessmentFailed, AssessmentPassed
from credstack.contracts.catalogue import (
    EnrolmentOpened,
    MicroCredentialPublished,
    OfferingRescheduled,
    OfferingScheduled,
    StackPublished,
)
from credstack.contracts.enrolment import (
    DeclarationRequired,
    EnrolmentCancelled,
    EnrolmentConfirmed,
    EnrolmentRequested,
    EnrolmentWithdrawn,
    LearnerContactChanged,
    LearnerErased,
    PaymentFailed,
    PaymentRefunded,
    WaitlistSeatOffered,
)
from credstack.contracts.envelope import Event
from credstack.contracts.issuer import (
    CertificateOfAttendanceIssued,
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    StackCredentialIssued,
    WalletClaimOffered,
)
from credstack.kafka import Handler
from notifier.usecases import from_assessment, from_catalogue, from_enrolment, from_issuer

HANDLERS: dict[type[Event], Handler] = {
    LearnerContactChanged: from_enrolment.contact_changed,
    LearnerErased: from_enrolment.learner_erased,
    MicroCredentialPublished: from_catalogue.micro_credential_published,
    StackPublished: from_catalogue.stack_published,
    OfferingScheduled: from_catalogue.offering_scheduled,
    OfferingRescheduled: from_catalogue.offering_rescheduled,
    EnrolmentOpened: from_catalogue.enrolment_opened,
    EnrolmentRequested: from_enrolment.enrolment_requested,
    DeclarationRequired: from_enrolment.declaration_required,
    EnrolmentConfirmed: from_enrolment.enrolment_confirmed,
    WaitlistSeatOffered: from_enrolment.seat_offered,
    EnrolmentCancelled: from_enrolment.enrolment_cancelled,
    EnrolmentWithdrawn: from_enrolment.enrolment_withdrawn,
    PaymentFailed: from_enrolment.payment_failed,
    PaymentRefunded: from_enrolment.payment_refunded,
    AssessmentPassed: from_assessment.assessment_passed,
    AssessmentFailed: from_assessment.assessment_failed,
    CredentialIssued: from_issuer.credential_issued,
    CertificateOfAttendanceIssued: from_issuer.attendance_issued,
    StackCredentialIssued: from_issuer.stack_issued,
    CredentialRevoked: from_issuer.credential_revoked,
    CredentialSuspended: from_issuer.credential_suspended,
    CredentialReinstated: from_issuer.credential_reinstated,
    WalletClaimOffered: from_issuer.wallet_claim_offered,
}
