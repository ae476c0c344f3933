"""Messages from templates: a subject and a plain-text body per kind and language
(`messages/<language>.toml`, Jinja2), and the same text as HTML (`templates/email.html`,
autoescaped, links made clickable). Pure: no I/O beyond reading the packaged files once."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from notifier.domain import Kind, choose_language

#: Links made clickable: web pages and OpenID4VCI credential offers (a wallet opens them).
_URL = re.compile(r"(?:https?|openid-credential-offer)://\S+")


@dataclass(frozen=True)
class Composed:
    language: str
    subject: str
    text: str
    html: str


@cache
def catalogues() -> dict[str, dict[str, dict[str, str]]]:
    """Language -> kind -> {subject, body}, from the packaged TOML files."""
    folder = resources.files("notifier") / "messages"
    return {
        entry.name.removesuffix(".toml"): tomllib.loads(entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


def shipped_languages() -> frozenset[str]:
    return frozenset(catalogues())


@cache
def _text_environment() -> Environment:
    # Plain text: nothing to escape; a missing variable is an error, never a blank.
    return Environment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True)


@cache
def _html_environment() -> Environment:
    return Environment(
        loader=PackageLoader("notifier", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )


@cache
def _text_template(language: str, kind: str, part: str) -> Template:
    """One part (subject or body) of a message, compiled once per process."""
    return _text_environment().from_string(catalogues()[language][kind][part])


def _parts(line: str) -> list[dict[str, str | None]]:
    """A line of text as runs of plain text and links (a bare URL becomes its own link)."""
    parts: list[dict[str, str | None]] = []
    position = 0
    for match in _URL.finditer(line):
        if match.start() > position:
            parts.append({"text": line[position : match.start()], "url": None})
        parts.append({"text": match.group(), "url": match.group()})
        position = match.end()
    if position < len(line):
        parts.append({"text": line[position:], "url": None})
    return parts


def compose(kind: Kind, facts: dict[str, Any], *preferred: str | None) -> Composed:
    """The message ``kind`` with ``facts``, in the first of ``preferred`` languages that
    has a translation of it (English otherwise)."""
    available = frozenset(lang for lang, kinds in catalogues().items() if kind.value in kinds)
    language = choose_language(available, *preferred)
    subject = " ".join(_text_template(language, kind.value, "subject").render(facts).split())
    text = _text_template(language, kind.value, "body").render(facts).strip() + "\n"
    paragraphs = [
        [_parts(line) for line in block.splitlines() if line.strip()]
        for block in re.split(r"\n\s*\n", text.strip())
    ]
    html = (
        _html_environment()
        .get_template("email.html")
        .render(
            language=language,
            subject=subject,
            paragraphs=[p for p in paragraphs if p],
            organisation=facts.get("organisation", ""),
        )
    )
    return Composed(language, subject, text, html)
