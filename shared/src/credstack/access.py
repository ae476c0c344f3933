"""Who may call each route, declared in the code and read back into the access matrix.

Every route of every service declares its access rule in one of three ways:

- a `credstack.auth.require(...)` dependency: a bearer token holding those scopes;
- a dependency (or the endpoint itself) marked with `scheme("...")`: a named non-JWT
  scheme (a signed webhook, LMS client credentials, a stream ticket, ...);
- the endpoint marked `@public`: anyone may call it.

`rules_of` reads a route's rules from its endpoint and its dependency tree (a marked
dependency is not looked into further: its mark describes it as a whole), and
`matrix` renders every route of a set of apps as the Markdown table docs/security.md
holds. `tests/test_access_matrix.py` fails on a route with no rule and on a stale table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

ATTRIBUTE = "__credstack_access__"
PUBLIC = "public"
DOCUMENTATION = "public (API documentation)"
START = "<!-- access-matrix:start (generated: ./dev access-matrix) -->"
END = "<!-- access-matrix:end -->"

F = TypeVar("F", bound=Callable[..., Any])


def scopes_rule(scopes: Iterable[str]) -> str:
    """The rule of a bearer token holding `scopes`."""
    held = " ".join(f"`{s}`" for s in scopes)
    return f"bearer {held}" if held else "bearer (any scope)"


def mark(function: F, rule: str) -> F:
    setattr(function, ATTRIBUTE, rule)
    return function


def scheme(rule: str) -> Callable[[F], F]:
    """Mark a dependency or an endpoint with a named access rule."""

    def decorate(function: F) -> F:
        return mark(function, rule)

    return decorate


def public(endpoint: F) -> F:
    """Mark an endpoint anyone may call (no credential at all)."""
    return mark(endpoint, PUBLIC)


def _dependency_rules(dependant: Dependant) -> Iterator[str]:
    for sub in dependant.dependencies:
        rule = getattr(sub.call, ATTRIBUTE, None)
        if rule is not None:
            yield rule
        else:
            yield from _dependency_rules(sub)


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    rules: tuple[str, ...]
    in_schema: bool


def routes_of(app: FastAPI) -> list[Row]:
    """Every route of `app` (with its routers' dependencies) and the rules it declares."""
    documentation = {app.openapi_url, app.docs_url, app.redoc_url}
    if app.docs_url:
        documentation.add(app.swagger_ui_oauth2_redirect_url)
    rows = []
    for route in iter_route_contexts(app.routes):
        path = str(route.path)
        if not isinstance(route.original_route, APIRoute):
            rules: tuple[str, ...] = (DOCUMENTATION,) if path in documentation else ()
            rows.append(Row("GET", path, rules, False))
            continue
        found = [getattr(route.endpoint, ATTRIBUTE, None), *_dependency_rules(route.dependant)]
        rules = tuple(sorted({r for r in found if r is not None}))
        for method in sorted(route.methods or ()):
            rows.append(Row(method, path, rules, bool(route.include_in_schema)))
    return rows


ANY_BEARER = scopes_rule(())


def undeclared(rows: Iterable[Row]) -> list[Row]:
    """Routes with no rule; `public` and another rule at once (a contradiction); or only
    "any bearer token" (`require()` with no scope: the handler decides, so the endpoint
    must say how with a `scheme(...)` mark)."""
    return [
        r
        for r in rows
        if not r.rules or (PUBLIC in r.rules and len(r.rules) > 1) or r.rules == (ANY_BEARER,)
    ]


def matrix(apps: dict[str, FastAPI]) -> str:
    """The access matrix as a Markdown table: service, route, rule."""
    lines = ["| service | route | who may call it |", "|---|---|---|"]
    for service, app in apps.items():
        for row in sorted(routes_of(app), key=lambda r: (r.path, r.method)):
            hidden = " (not in OpenAPI)" if not row.in_schema else ""
            rule = "; ".join(row.rules) or "**UNDECLARED**"
            lines.append(f"| {service} | `{row.method} {row.path}`{hidden} | {rule} |")
    return "\n".join(lines) + "\n"


def replace_section(document: str, table: str) -> str:
    """`document` with the text between START and END replaced by `table`."""
    head, start, rest = document.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"the document has no {START} … {END} section")
    return f"{head}{START}\n{table}{END}{tail}"
