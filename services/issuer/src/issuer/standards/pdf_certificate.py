"""The printable PDF certificate of a credential (fpdf2), with the QR code of its page.

Text is set in the Noto fonts of `issuer.typefaces` (Noto Sans first, the others as
fallbacks for the characters it lacks), shaped by HarfBuzz, so names and titles in any
shipped script print as written. One page: learning outcomes, result and credit points
are shortened to fit rather than flowing onto a second page.
"""

from __future__ import annotations

import io
from typing import Any

import segno
from fpdf import FPDF

from issuer.standards.badge_baking import BadgeFace
from issuer.typefaces import FONTS, PRIMARY, runs


def _latin1(text: str) -> str:
    """For the document's metadata only (title, author): its fonts do not apply there."""
    return text


def _fonts(document: FPDF, texts: list[str]) -> None:
    """Noto Sans and, as fallbacks, the other fonts these texts need: only those, since
    loading a CJK font costs time."""
    # The variable fonts' default (regular) instance: making a bold instance takes fontTools
    # far too long per request, so "bold" text is the regular face (size and colour carry it).
    document.add_font(PRIMARY.family, "", PRIMARY.file)
    document.add_font(PRIMARY.family, "B", PRIMARY.file)
    needed = {face for text in texts for _, face in runs(text)} - {PRIMARY}
    fallbacks = [face for face in FONTS if face in needed]
    for typeface in fallbacks:
        document.add_font(typeface.family, "", typeface.file)
        document.add_font(typeface.family, "B", typeface.file)
    document.set_fallback_fonts([t.family for t in fallbacks], exact_match=False)
    document.set_text_shaping(True)


#: Outcomes listed; more are summarised in one line, so the certificate stays one page.
MAX_OUTCOMES = 5


def _fit(document: FPDF, text: str, width: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` mm on one line."""
    if document.get_string_width(text) <= width:
        return text
    while text and document.get_string_width(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def pdf(face: BadgeFace, *, issuer_name: str, credential_url: str) -> bytes:
    """The one-page A4 certificate: heading and title, to whom and when, the result and
    outcomes, and a footer with the verification QR code and links."""
    document = FPDF(orientation="landscape", format="A4")
    document.set_title(_latin1(face.title))
    document.set_author(_latin1(issuer_name))
    document.set_auto_page_break(False)  # one page: the footer sits near the bottom edge
    _fonts(
        document,
        [
            face.heading,
            face.title,
            face.language_note or "",
            face.learner_name or "",
            *face.details,
        ],
    )
    document.add_page()
    document.set_draw_color(18, 53, 91)
    document.set_line_width(2)
    document.rect(10, 10, 277, 190)
    _heading(document, face)
    _award(document, face, issuer_name)
    _outcomes(document, face)
    _footer(document, face, credential_url)
    return bytes(document.output())


def _line(document: FPDF, height: float, text: str, **options: Any) -> None:
    document.cell(0, height, text, new_x="LMARGIN", new_y="NEXT", **options)


def _heading(document: FPDF, face: BadgeFace) -> None:
    document.set_y(28)
    document.set_font(PRIMARY.family, "B", 14)
    document.set_text_color(242, 165, 65)
    _line(document, 10, _latin1(face.heading.upper()), align="C")
    document.set_text_color(18, 53, 91)
    document.set_font(PRIMARY.family, "B", 28)
    document.multi_cell(0, 13, _latin1(face.title), align="C", new_x="LMARGIN", new_y="NEXT")
    if face.language_note:
        document.set_font(PRIMARY.family, "B", 18)
        document.set_text_color(200, 110, 20)
        _line(document, 11, _latin1(face.language_note.upper()), align="C")
        document.set_text_color(18, 53, 91)
    document.ln(4)


def _award(document: FPDF, face: BadgeFace, issuer_name: str) -> None:
    document.set_font(PRIMARY.family, "", 18)
    if face.learner_name:
        _line(document, 10, _latin1(f"awarded to {face.learner_name}"), align="C")
    document.set_font(PRIMARY.family, "", 13)
    for detail in face.details:
        _line(document, 8, _latin1(detail), align="C")
    if face.issued_on:
        _line(document, 8, _latin1(f"Issued {face.issued_on} by {issuer_name}"), align="C")


def _outcomes(document: FPDF, face: BadgeFace) -> None:
    document.set_font(PRIMARY.family, "", 11)
    if face.result:
        _line(document, 7, f"Result: {face.result}", align="C")
    shown = face.outcomes[:MAX_OUTCOMES]
    if not shown:
        return
    document.ln(1)
    document.set_x(40)
    _line(document, 6, "Learning outcomes demonstrated:")
    for outcome in shown:
        document.set_x(44)
        _line(document, 5.5, _fit(document, f"• {outcome}", 190))
    if len(face.outcomes) > MAX_OUTCOMES:
        document.set_x(44)
        more = len(face.outcomes) - MAX_OUTCOMES
        _line(document, 5.5, f"… and {more} more: see the credential")


def _footer(document: FPDF, face: BadgeFace, credential_url: str) -> None:
    qr = io.BytesIO()
    segno.make(face.verify_url, error="m").save(qr, kind="png", scale=6, border=2)
    document.image(io.BytesIO(qr.getvalue()), x=242, y=152, w=36)
    document.set_y(192)
    document.set_font(PRIMARY.family, "", 8)
    document.cell(
        0, 5, _latin1(f"Verify: {face.verify_url}   Credential: {credential_url}"), align="C"
    )
