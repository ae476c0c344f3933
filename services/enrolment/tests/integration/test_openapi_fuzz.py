"""schemathesis over the enrolment service's OpenAPI, anonymous and as staff: no 5xx, no
response that breaks the published schema."""

from credstack.fuzzing import fuzz
from credstack.testing import ServiceUnderTest, Tokens


async def test_the_openapi_holds_under_fuzzing(enrolment: ServiceUnderTest, tokens: Tokens) -> None:
    anonymous = await fuzz(enrolment)
    staff = await fuzz(enrolment, tokens("staff"))
    assert anonymous.requests > 20 and staff.requests > 20
    assert [*anonymous, *staff] == []
