"""Field types that refuse what the database or the standards cannot hold, with a 422.

`LanguageTag`: a valid BCP 47 tag of any length (RFC 5646), checked by langcodes'
implementation of the RFC rather than a regular expression of our own. Only the input is
bounded (255 characters): the RFC itself sets no maximum.
"""

from __future__ import annotations

from typing import Annotated

import langcodes
from pydantic import AfterValidator, Field

MAX_LANGUAGE_TAG = 255


def is_language_tag(tag: str) -> bool:
    """A well-formed BCP 47 tag (`en`, `zh-Hant-TW`, `sgn-BE-FR`, `de-CH-1996`...)."""
    return bool(tag) and "_" not in tag and bool(langcodes.tag_is_valid(tag))


def _well_formed(tag: str) -> str:
    if not is_language_tag(tag):
        raise ValueError(f"{tag!r} is not a well-formed BCP 47 language tag")
    return tag


LanguageTag = Annotated[
    str,
    Field(
        min_length=2,
        max_length=MAX_LANGUAGE_TAG,
        description="A BCP 47 language tag, e.g. en, fr-CA, zh-Hans-CN",
        examples=["en", "zh-Hans-CN"],
    ),
    AfterValidator(_well_formed),
]
