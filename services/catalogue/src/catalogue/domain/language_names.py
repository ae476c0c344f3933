"""English names of languages, scripts and territories, as langcodes gives them, without
loading langcodes' names in every language.

`langcodes.Language.display_name` reads `language_data.name_data`, a dict of every code's
names in some 400 languages: importing it costs about 300 MB of RSS for the life of the
process (the catalogue went from 111 to ~400 MB on its first write, docs/performance.md
§ Catalogue). The catalogue only ever names things in English, so it keeps the English
names (`language_names_en.json`, 9,000 codes, 180 kB), extracted from the same
`language_data` release by `python -m catalogue.domain.language_names`, and composes the
name as `display_name("en")` does: the language, then the script and territory in
parentheses. Hand-written on purpose (the composition is langcodes' own, ten lines); a
unit test checks it gives langcodes' answer.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import langcodes

TABLE = Path(__file__).with_name("language_names_en.json")
PLACEHOLDERS = {"language": "und", "script": "Zzzz", "territory": "ZZ"}


@functools.cache
def _names() -> dict[str, str]:
    names: dict[str, str] = json.loads(TABLE.read_text(encoding="utf-8"))
    return names


def _name(attribute: str, code: str | None) -> str | None:
    """langcodes' `Language._get_name(attribute, "en", ...)`: the English name of a code,
    or "Unknown language [xx]" for one that has none."""
    if code is None:
        if attribute != "language":
            return None
        code = "und"
    if (name := _names().get(code)) is not None:
        return name
    unknown = _names().get(PLACEHOLDERS[attribute], "Unknown language subtag")
    return f"{unknown} [{code}]"


def english_display_name(tag: str) -> str:
    """`langcodes.Language.get(tag).display_name("en")`; ValueError (langcodes'
    LanguageTagError) for what is not a language tag."""
    reduced = langcodes.Language.get(tag).simplify_script()
    language = _name("language", reduced.language)
    extra = [
        name
        for attribute, code in (("script", reduced.script), ("territory", reduced.territory))
        if code is not None and (name := _name(attribute, code)) is not None
    ]
    return f"{language} ({', '.join(extra)})" if extra else str(language)


def build() -> None:
    """Write the table from the installed language_data (run after upgrading it)."""
    from language_data.name_data import CODE_TO_NAMES  # ~300 MB: only here, never served

    english = {code: names["en"] for code, names in CODE_TO_NAMES.items() if "en" in names}
    TABLE.write_text(
        json.dumps(english, ensure_ascii=False, sort_keys=True, indent=0) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    build()
