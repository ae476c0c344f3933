"""Every route of every service declares who may call it, and docs/security.md shows it.

The rules are read from the code (`credstack.access`): `require(...)` scopes, a named
scheme on a dependency or endpoint, or `@public`. Regenerate the table with
`./dev access-matrix` after adding or changing a route.
"""

from pathlib import Path

import pytest
from fastapi import FastAPI

from credstack import access
from credstack.auth import require
from credstack.cli import service_apps

DOCUMENT = Path(__file__).parents[1] / "docs" / "security.md"


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FastAPI]:
    return service_apps(tmp_path_factory.mktemp("apps"))


def test_every_route_declares_its_access_rule(apps: dict[str, FastAPI]) -> None:
    missing = [
        (service, row.method, row.path, row.rules)
        for service, app in apps.items()
        for row in access.undeclared(access.routes_of(app))
    ]
    assert missing == []


def test_the_matrix_in_docs_security_is_up_to_date(apps: dict[str, FastAPI]) -> None:
    document = DOCUMENT.read_text()
    assert access.replace_section(document, access.matrix(apps)) == document, (
        "docs/security.md's access matrix is stale: run ./dev access-matrix"
    )


def test_rules_are_read_from_dependencies_and_marks() -> None:
    """The reader itself: an unmarked route is caught, each kind of mark is read."""
    app = FastAPI()

    @app.get("/open")
    @access.public
    async def open_route() -> None: ...

    @app.get("/scoped", dependencies=[require("a:b", "c:d")])
    async def scoped() -> None: ...

    @access.scheme("signed webhook")
    async def signed() -> None: ...

    from fastapi import Depends

    @app.post("/hook", dependencies=[Depends(signed)])
    async def hook() -> None: ...

    @app.get("/forgotten")
    async def forgotten() -> None: ...

    @app.get("/both", dependencies=[require("x:y")])
    @access.public
    async def both() -> None: ...

    @app.get("/anyone-signed-in", dependencies=[require()])
    async def anyone_signed_in() -> None: ...

    @app.get("/owner", dependencies=[require()])
    @access.scheme("(in the handler) the owner")
    async def owner() -> None: ...

    rows = {(r.method, r.path): r.rules for r in access.routes_of(app)}
    assert rows[("GET", "/open")] == ("public",)
    assert rows[("GET", "/scoped")] == ("bearer `a:b` `c:d`",)
    assert rows[("POST", "/hook")] == ("signed webhook",)
    assert rows[("GET", "/openapi.json")] == (access.DOCUMENTATION,)
    assert rows[("GET", "/owner")] == ("(in the handler) the owner", "bearer (any scope)")
    undeclared = {r.path for r in access.undeclared(access.routes_of(app))}
    assert undeclared == {"/forgotten", "/both", "/anyone-signed-in"}
