"""Names in every script render on the badge PNG, the SVG and the PDF with real glyphs:
checked from the rendered output, never an empty box (.notdef) in their place."""

import base64
import io
import re
import unicodedata
from xml.etree import ElementTree

import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops, ImageDraw
from pypdf import PdfReader

from issuer import typefaces
from issuer.standards import badge_baking, pdf_certificate

NAMES = {
    "Latin": "Zoë Łukasiewicz-Ångström",
    "Greek": "Ελένη Παπαδοπούλου",
    "Cyrillic": "Иван Петрович Сидоров",
    "Chinese": "李雷 韩梅梅",
    "Japanese": "山田 はなこ カタカナ",
    "Korean": "김민준",
    "Arabic": "محمد الأحمد",
    "Hebrew": "דוד כהן",
    "Devanagari": "अनीता शर्मा",
}


def face(name: str) -> badge_baking.BadgeFace:
    return badge_baking.BadgeFace(
        heading="Micro-credential",
        title=f"Données ouvertes — {name}",
        learner_name=name,
        details=("3.125 credit points",),
        language_note="Taught in French",
        issued_on="22 November 2026",
        verify_url="https://c.example/verify/1",
    )


def strong(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c)[0] not in "ZPC"]


@pytest.mark.parametrize("script", NAMES)
def test_every_character_has_a_shipped_font(script: str) -> None:
    assert typefaces.missing(NAMES[script]) == set()


def _ink(text: str, font: object) -> Image.Image:
    image = Image.new("L", (400, 120), 0)
    ImageDraw.Draw(image).text((10, 10), text, font=font, fill=255)
    return image


@pytest.mark.parametrize("script", NAMES)
def test_the_png_draws_each_character_with_a_glyph_not_the_empty_box(script: str) -> None:
    name = NAMES[script]
    for run, font, _ in badge_baking.placed_runs(name, 32):
        box = _ink("\U0010fffd", font)  # a private-use code point no font has: .notdef
        for character in strong(run):
            drawn = _ink(character, font)
            assert drawn.getbbox() is not None, f"{character!r} drew nothing"
            assert ImageChops.difference(drawn, box).getbbox() is not None, (
                f"{character!r} ({script}) drew the empty box"
            )
    with_name = badge_baking.render_png(face(name))
    without = badge_baking.render_png(face(""))
    assert ImageChops.difference(with_name, without).getbbox() is not None


SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("script", NAMES)
def test_the_svg_embeds_a_font_with_an_outline_for_every_character_it_shows(script: str) -> None:
    svg = badge_baking.svg(face(NAMES[script]), credential={"id": "x"})
    root = ElementTree.fromstring(svg)
    style = root.find(f"{SVG}style")
    assert style is not None and style.text
    embedded = {
        family: TTFont(io.BytesIO(base64.b64decode(data)))
        for family, data in re.findall(
            r'font-family:"([^"]+)";src:url\("data:font/ttf;base64,([^"]+)"\)', style.text
        )
    }
    shown = ""
    for span in root.iter(f"{SVG}tspan"):
        font = embedded[span.attrib["font-family"]]
        cmap, glyphs = font.getBestCmap(), font["glyf"]
        for character in strong(span.text or ""):
            assert ord(character) in cmap, f"{character!r} not in {span.attrib['font-family']}"
            glyph = glyphs[cmap[ord(character)]]
            assert glyph.numberOfContours != 0, f"{character!r} has an empty outline"
        shown += span.text or ""
    assert NAMES[script] in shown


@pytest.mark.parametrize("script", NAMES)
def test_the_pdf_sets_the_name_in_real_glyphs_on_one_page(
    script: str, recwarn: pytest.WarningsRecorder
) -> None:
    name = NAMES[script]
    data = pdf_certificate.pdf(face(name), issuer_name="Credstack", credential_url="https://c/1")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    # Each glyph's ToUnicode entry gives back what it draws; .notdef gives back nothing.
    missing = [c for c in strong(name) if c not in text]
    assert missing == [], f"{script}: {missing} not set in real glyphs; extracted {text!r}"
    assert not [w for w in recwarn if "glyph" in str(w.message).lower()]


def test_the_pdf_shows_outcomes_result_and_credit_points_on_one_page() -> None:
    outcomes = tuple(f"Outcome {i}: " + "explain a long idea clearly " * 6 for i in range(8))
    certificate = badge_baking.BadgeFace(
        heading="Micro-credential",
        title="Negotiating across cultures in international data partnerships " * 2,
        learner_name="Zoë Łukasiewicz 李雷",
        details=("3.125 credit points", "65 notional hours · 60 CPD hours"),
        language_note="Taught in French",
        issued_on="22 November 2026",
        verify_url="https://c.example/verify/1",
        outcomes=outcomes,
        result="86% (pass mark 70%)",
    )
    data = pdf_certificate.pdf(certificate, issuer_name="Credstack", credential_url="https://c/1")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "3.125 credit points" in text
    assert "Result: 86% (pass mark 70%)" in text
    for outcome in outcomes[: pdf_certificate.MAX_OUTCOMES]:
        assert outcome[:30] in text
    assert f"and {len(outcomes) - pdf_certificate.MAX_OUTCOMES} more" in text
