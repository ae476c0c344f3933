from credstack.contracts.assessment import (
    AssessmentPassed,
    AttendanceOnlyCompleted,
    ResultWithdrawn,
)
from credstack.contracts.catalogue import MicroCredentialPublished, StackPublished
from credstack.contracts.enrolment import EnrolmentConfirmed
from credstack.kafka import Handlers
from issuer.usecases import Issuer


def handlers(issuer: Issuer) -> Handlers:
    """Contract -> use case. MicroCredentialDisestablished is not consumed: credentials
    already earned stay valid, and the issuer keeps the version it needs."""
    return {
        MicroCredentialPublished: issuer.micro_credential_published,
        StackPublished: issuer.stack_published,
        EnrolmentConfirmed: issuer.enrolment_confirmed,
        AssessmentPassed: issuer.assessment_passed,
        AttendanceOnlyCompleted: issuer.attendance_only_completed,
        ResultWithdrawn: issuer.result_withdrawn,
    }
