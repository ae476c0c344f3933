"""schemathesis over the catalogue's OpenAPI, anonymous and as staff: no 5xx, no
response that breaks the published schema."""

from credstack.fuzzing import fuzz
from credstack.testing import ServiceUnderTest, Tokens


async def test_the_openapi_holds_under_fuzzing(catalogue: ServiceUnderTest, tokens: Tokens) -> None:
    anonymous = await fuzz(catalogue)
    staff = await fuzz(catalogue, tokens("staff"))
    assert anonymous.requests > 50 and staff.requests > 50
    assert [*anonymous, *staff] == []
