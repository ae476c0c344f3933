"""schemathesis over the issuer service's OpenAPI, anonymous and as staff: no 5xx, no
response that breaks the published schema."""

from credstack.fuzzing import fuzz
from credstack.testing import ServiceUnderTest, Tokens


async def test_the_openapi_holds_under_fuzzing(issuer: ServiceUnderTest, tokens: Tokens) -> None:
    anonymous = await fuzz(issuer)
    staff = await fuzz(issuer, tokens("staff"))
    assert anonymous.requests > 20 and staff.requests > 20
    assert [*anonymous, *staff] == []
