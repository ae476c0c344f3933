"""schemathesis over the assessment service's OpenAPI, anonymous and as staff: no 5xx, no
response that breaks the published schema."""

from credstack.fuzzing import fuzz
from credstack.testing import ServiceUnderTest, Tokens


async def test_the_openapi_holds_under_fuzzing(
    assessment: ServiceUnderTest, tokens: Tokens
) -> None:
    anonymous = await fuzz(assessment)
    staff = await fuzz(assessment, tokens("staff"))
    assert anonymous.requests > 20 and staff.requests > 20
    assert [*anonymous, *staff] == []
