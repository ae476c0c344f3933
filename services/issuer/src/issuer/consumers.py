from credstack.contracts.assessment import AssessmentPassed
from credstack.contracts.catalogue import MicroCredentialPublished
from credstack.contracts.enrolment import EnrolmentConfirmed
from credstack.kafka import Handlers
from issuer.usecases import Issuer


def handlers(issuer: Issuer) -> Handlers:
    return {
        MicroCredentialPublished: issuer.micro_credential_published,
        EnrolmentConfirmed: issuer.enrolment_confirmed,
        AssessmentPassed: issuer.assessment_passed,
    }
