"""The catalogue's English language names are langcodes' own (without its 300 MB of names
in every language: catalogue.domain.language_names)."""

import json

import langcodes
import pytest

from catalogue.domain import language_name
from catalogue.domain.language_names import TABLE, english_display_name

TAGS = [
    *("en", "en-AU", "en-GB", "fr", "fr-CA", "de-CH", "es-419", "pt-BR", "zh", "zh-Hans"),
    *("zh-Hant", "zh-Hant-TW", "zh-Hans-CN", "zh-TW", "sr-Latn", "sr-Cyrl-RS", "yue-Hant-HK"),
    *("ja", "ko-KR", "mi", "mi-NZ", "haw", "tlh", "qaa", "x-private", "und", "en-Latn-US"),
    *("sgn-AU", "asf", "nv", "kw", "gd-GB", "ar-001", "hi-Latn", "aa-ZZ", "abc", "en-Zzzz"),
    *("de-1901", "sl-rozaj", "art-lojban", "i-klingon", "zh-min-nan", "en-US-u-ca-gregory"),
]


@pytest.mark.parametrize("tag", TAGS)
def test_a_tag_is_named_as_langcodes_names_it(tag: str) -> None:
    assert english_display_name(tag) == langcodes.Language.get(tag).display_name("en")


def test_every_language_in_the_table_is_named_as_langcodes_names_it() -> None:
    codes = [code for code in json.loads(TABLE.read_text()) if code.isalpha() and code.islower()]
    differ = [
        code
        for code in codes
        if english_display_name(code) != langcodes.Language.get(code).display_name("en")
    ]
    assert len(codes) > 5000
    assert differ == []


def test_what_is_not_a_tag_is_named_by_itself() -> None:
    assert language_name("not a tag!") == "not a tag!"
    assert language_name("zh-Hant-TW") == "Chinese (Traditional, Taiwan)"


def test_the_table_is_the_installed_language_data() -> None:
    """After upgrading language_data: `python -m catalogue.domain.language_names`."""
    from language_data.name_data import CODE_TO_NAMES

    english = {code: names["en"] for code, names in CODE_TO_NAMES.items() if "en" in names}
    assert json.loads(TABLE.read_text()) == english
