"""Field types that refuse what the database or the standards cannot hold, with a 422.

`LanguageTag`: a well-formed BCP 47 tag (RFC 5646 §2.1 `langtag` or private use). Written
as one regular expression from the RFC's ABNF rather than a dependency: only
well-formedness is checked (not the IANA registry), and the longest tag RFC 5646 asks
implementations to support (35 characters, §4.4.1) is the limit.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

_ALNUM = "[A-Za-z0-9]"
_LANGTAG = (
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"  # language (with extlang)
    r"(?:-[A-Za-z]{4})?"  # script
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"  # region
    rf"(?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*"  # variants
    rf"(?:-[0-9A-WY-Za-wy-z](?:-{_ALNUM}{{2,8}})+)*"  # extensions
    rf"(?:-[xX](?:-{_ALNUM}{{1,8}})+)?"  # private use
)
BCP47 = re.compile(rf"(?:{_LANGTAG}|[xX](?:-{_ALNUM}{{1,8}})+)")
MAX_LANGUAGE_TAG = 35


def _well_formed(tag: str) -> str:
    if not BCP47.fullmatch(tag):
        raise ValueError(f"{tag!r} is not a well-formed BCP 47 language tag")
    return tag


LanguageTag = Annotated[
    str,
    Field(
        min_length=2,
        max_length=MAX_LANGUAGE_TAG,
        description="A BCP 47 language tag, e.g. en, fr-CA, zh-Hans-CN (at most 35 characters)",
        examples=["en", "zh-Hans-CN"],
    ),
    AfterValidator(_well_formed),
]
