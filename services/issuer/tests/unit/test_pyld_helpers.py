"""The pyld helpers `issuer.standards.jsonld` replaces answer exactly as pyld's own."""

import re
from typing import Any

from pyld import jsonld as pyld

from issuer.standards import jsonld

VALUES: list[Any] = [
    "1",
    " 2.5 ",
    "-3e4",
    "+.5",
    "1_000",
    "inf",
    "-Infinity",
    "nan",
    "NaN",
    "١٢٣",
    "\u20031\u2003",
    "1e",
    "e",
    "",
    " ",
    "abc",
    "https://example.org/x",
    "urn:uuid:1",
    "_:b0",
    "2026-05-01",
    "1/2",
    "0x10",
    "infinit",
    "tiny",
    1,
    2.5,
    True,
    None,
    [],
    {},
    b"7",
    b"x",
]


def pyld_is_numeric(value: Any) -> bool:  # pyld 3.3.0's, verbatim
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def pyld_is_absolute_iri(value: Any) -> Any:  # pyld 3.3.0's, verbatim
    return isinstance(value, str) and re.match(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$", value)


def test_the_replacements_are_installed_and_answer_as_pyld() -> None:
    assert pyld._is_numeric is jsonld._is_numeric
    assert pyld._is_absolute_iri is jsonld._is_absolute_iri
    for value in VALUES:
        assert jsonld._is_numeric(value) == pyld_is_numeric(value), value
        assert bool(jsonld._is_absolute_iri(value)) == bool(pyld_is_absolute_iri(value)), value
