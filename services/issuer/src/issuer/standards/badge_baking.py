"""Badge images: drawn (PNG with Pillow, SVG by hand), baked and unbaked.

Baking (OB 3.0 and OB 2.0 "Baking" sections):

- PNG: one ``iTXt`` chunk, uncompressed, keyword ``openbadgecredential`` (OB 3.0, the signed
  credential JSON) or ``openbadges`` (OB 2.0, the hosted assertion JSON). Pillow writes it.
- SVG: ``<openbadges:credential>`` in namespace ``https://purl.imsglobal.org/ob/v3p0`` with
  the credential in CDATA (OB 3.0), or ``<openbadges:assertion verify="URL">`` in namespace
  ``http://openbadges.org`` with the assertion in CDATA (OB 2.0), first child of ``<svg>``.

The face shows the title, the learner's name, credit points, hours, the language of
instruction when it is not English, the issue date and a QR code of the verification page.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import segno
from defusedxml import DefusedXmlException, ElementTree
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from issuer.typefaces import PRIMARY, Typeface, runs, subset_data_uri

OB3_PNG_KEYWORD = "openbadgecredential"
OB2_PNG_KEYWORD = "openbadges"
OB3_SVG_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
OB2_SVG_NAMESPACE = "http://openbadges.org"

SIZE = 800
_BACKGROUND = "#12355b"
_ACCENT = "#f2a541"
_INK = "#ffffff"


@dataclass(frozen=True)
class BadgeFace:
    """What a badge image shows. ``learner_name`` is None on an achievement's generic image."""

    heading: str
    title: str
    learner_name: str | None
    details: tuple[str, ...]
    language_note: str | None
    issued_on: str | None
    verify_url: str
    outcomes: tuple[str, ...] = ()
    """The learning outcomes demonstrated (the PDF lists them; badges have no room)."""
    result: str | None = None
    """The result, e.g. "86% (pass mark 70%)" (the PDF shows it)."""

    def lines(self) -> list[tuple[str, int, str]]:
        """(text, font size, colour) from top to bottom."""
        lines = [(self.heading.upper(), 26, _ACCENT)]
        lines += [(part, 44, _INK) for part in _wrap(self.title, 30)]
        if self.language_note:
            lines.append((self.language_note.upper(), 34, _ACCENT))
        if self.learner_name:
            lines.append((f"Awarded to {self.learner_name}", 32, _INK))
        lines += [(detail, 28, _INK) for detail in self.details]
        if self.issued_on:
            lines.append((f"Issued {self.issued_on}", 26, _INK))
        return lines


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else lines


@cache
def _font(face: Typeface, size: int) -> ImageFont.FreeTypeFont:
    # libraqm (in Pillow's wheels) shapes Arabic and Devanagari and orders right-to-left runs.
    return ImageFont.truetype(str(face.file), size, layout_engine=ImageFont.Layout.RAQM)


def placed_runs(text: str, size: int) -> list[tuple[str, ImageFont.FreeTypeFont, float]]:
    """``text``'s runs with the font each is drawn in and its advance width."""
    placed = []
    for run, face in runs(text):
        font = _font(face, size)
        placed.append((run, font, font.getlength(run)))
    return placed


def render_png(face: BadgeFace) -> Image.Image:
    image = Image.new("RGB", (SIZE, SIZE), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((16, 16, SIZE - 16, SIZE - 16), outline=_ACCENT, width=6)
    y = 56
    for text, size, colour in face.lines():
        placed = placed_runs(text, size)
        x = (SIZE - sum(width for _, _, width in placed)) / 2
        for run, font, width in placed:
            draw.text((x, y), run, font=font, fill=colour)
            x += width
        y += int(size * 1.35)
    qr = segno.make(face.verify_url, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=5, border=2, dark="#000000", light="#ffffff")
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    image.paste(code, ((SIZE - code.width) // 2, SIZE - code.height - 40))
    return image


def png(face: BadgeFace, *, keyword: str | None = None, payload: str | None = None) -> bytes:
    """The face as PNG; with ``keyword`` and ``payload``, baked into one iTXt chunk."""
    info = None
    if keyword is not None and payload is not None:
        info = PngInfo()
        info.add_itxt(keyword, payload, zip=False)
    buffer = io.BytesIO()
    render_png(face).save(buffer, format="PNG", pnginfo=info, optimize=True)
    return buffer.getvalue()


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def svg(
    face: BadgeFace,
    *,
    credential: Mapping[str, Any] | None = None,
    assertion: Mapping[str, Any] | None = None,
) -> str:
    """The face as SVG, baked with an OB 3.0 credential or an OB 2.0 hosted assertion."""
    namespaces = 'xmlns="http://www.w3.org/2000/svg"'
    baked = ""
    if credential is not None:
        namespaces += f' xmlns:openbadges="{OB3_SVG_NAMESPACE}"'
        baked = f"<openbadges:credential>{_cdata(json.dumps(credential))}</openbadges:credential>"
    elif assertion is not None:
        namespaces += f' xmlns:openbadges="{OB2_SVG_NAMESPACE}"'
        baked = (
            f"<openbadges:assertion verify={quoteattr(str(assertion['id']))}>"
            f"{_cdata(json.dumps(assertion))}</openbadges:assertion>"
        )
    parts = [
        f'<svg {namespaces} width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}">',
        baked,
        f'<rect width="{SIZE}" height="{SIZE}" fill="{_BACKGROUND}"/>',
        f'<rect x="16" y="16" width="{SIZE - 32}" height="{SIZE - 32}" fill="none" '
        f'stroke="{_ACCENT}" stroke-width="6"/>',
    ]
    lines = face.lines()
    parts.append(_embedded_fonts([text for text, _, _ in lines]))
    y = 56
    for text, size, colour in lines:
        spans = "".join(
            f'<tspan font-family="{typeface.family}">{escape(run)}</tspan>'
            for run, typeface in runs(text)
        )
        parts.append(
            f'<text x="{SIZE // 2}" y="{y + size}" font-family="{PRIMARY.family}, sans-serif" '
            f'font-size="{size}" fill="{colour}" text-anchor="middle">{spans}</text>'
        )
        y += int(size * 1.35)
    parts.append(_qr_code(face.verify_url))
    parts.append("</svg>")
    return "".join(parts)


def _embedded_fonts(texts: list[str]) -> str:
    """The fonts travel inside the SVG (subsets of what it says), so any viewer draws every
    script without fonts of its own."""
    used: dict[Typeface, str] = {}
    for text in texts:
        for run, typeface in runs(text):
            used[typeface] = used.get(typeface, "") + run
    faces = "".join(
        f'@font-face{{font-family:"{typeface.family}";'
        f'src:url("{subset_data_uri(typeface, text)}") format("truetype")}}'
        for typeface, text in used.items()
    )
    return f"<style>{faces}</style>"


def _qr_code(url: str) -> str:
    """The verification URL's QR code, drawn as one path on white, centred near the foot."""
    qr = segno.make(url, error="m")
    scale = 5
    side = qr.symbol_size(scale=scale, border=2)[0]
    left, top = (SIZE - side) // 2, SIZE - side - 40
    path = "".join(
        f"M{left + (x + 2) * scale},{top + (y + 2) * scale}h{scale}v{scale}h-{scale}z"
        for y, row in enumerate(qr.matrix)
        for x, dark in enumerate(row)
        if dark
    )
    return (
        f'<rect x="{left}" y="{top}" width="{side}" height="{side}" fill="#ffffff"/>'
        f'<path d="{path}" fill="#000000"/>'
    )


class NotBaked(ValueError):
    """The image carries no Open Badges data (or is not a PNG or SVG)."""


@dataclass(frozen=True)
class Unbaked:
    version: str  # "3.0" | "2.0"
    payload: str  # JSON text or a compact JWS


def unbake(data: bytes) -> Unbaked:
    """The first Open Badges payload in a PNG or SVG; NotBaked if there is none."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _unbake_png(data)
    if b"<svg" in data[:4096]:
        return _unbake_svg(data)
    raise NotBaked("not a PNG or SVG image")


MAX_UNBAKE_PIXELS = 4096 * 4096
"""The largest image read for its badge (a badge is a few hundred pixels square): a
decompression bomb is refused from its header, before any pixel is decoded."""


def _unbake_png(data: bytes) -> Unbaked:
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_UNBAKE_PIXELS:
                raise NotBaked(
                    f"the PNG is {width}x{height} pixels; a badge has at most {MAX_UNBAKE_PIXELS}"
                )
            image.load()
            texts = dict(getattr(image, "text", {}))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise NotBaked(f"unreadable PNG: {error}") from error
    for keyword, version in ((OB3_PNG_KEYWORD, "3.0"), (OB2_PNG_KEYWORD, "2.0")):
        if keyword in texts:
            return Unbaked(version, str(texts[keyword]))
    raise NotBaked("the PNG has no openbadgecredential or openbadges iTXt chunk")


def _unbake_svg(data: bytes) -> Unbaked:
    try:
        # defusedxml: no entity expansion, no external entities, no DTD retrieval
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException) as error:
        raise NotBaked(f"unreadable SVG: {error}") from error
    for tag, version in (
        (f"{{{OB3_SVG_NAMESPACE}}}credential", "3.0"),
        (f"{{{OB2_SVG_NAMESPACE}}}assertion", "2.0"),
    ):
        element = root.find(f".//{tag}")
        if element is not None:
            body = (element.text or "").strip()
            return Unbaked(version, body or element.get("verify", ""))
    raise NotBaked("the SVG has no openbadges:credential or openbadges:assertion element")
