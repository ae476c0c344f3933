"""Fonts for every script a name or a title may be written in, with fallback between them.

The fonts are Noto (SIL Open Font License) from PyPI packages the issuer depends on, so
nothing is looked up on the machine: Noto Sans (Latin, Greek, Cyrillic), Noto Sans Arabic
and Hebrew (right to left), Noto Sans Devanagari (and Bengali, Tamil, Telugu), and Noto Sans
SC, JP, KR (CJK). A text is cut into runs, each in the first font (in `FONTS` order) that
has a glyph for its characters; spaces, digits and punctuation stay in the run they are in.
Badge images draw each run with its font (Pillow with libraqm: shaping and bidi), the SVG
embeds a subset of each font it uses, and the PDF registers them all as fallbacks (fpdf2
with HarfBuzz shaping).
"""

from __future__ import annotations

import base64
import io
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont


@dataclass(frozen=True)
class Typeface:
    family: str
    """The family name the SVG and PDF use for it."""
    package: str
    path: str
    """Inside the package."""

    @property
    def file(self) -> Path:
        return Path(str(resources.files(self.package).joinpath(self.path)))


FONTS: tuple[Typeface, ...] = (
    Typeface("Noto Sans", "fontpkg_noto_sans", "files/NotoSans[wdth,wght].ttf"),
    Typeface(
        "Noto Sans Arabic",
        "justmytype_intl_rtl",
        "fonts/ofl/notosansarabic/NotoSansArabic[wdth,wght].ttf",
    ),
    Typeface(
        "Noto Sans Hebrew",
        "justmytype_intl_rtl",
        "fonts/ofl/notosanshebrew/NotoSansHebrew[wdth,wght].ttf",
    ),
    Typeface(
        "Noto Sans Devanagari",
        "justmytype_intl_south_asia",
        "fonts/ofl/notosansdevanagari/NotoSansDevanagari[wdth,wght].ttf",
    ),
    Typeface(
        "Noto Sans Bengali",
        "justmytype_intl_south_asia",
        "fonts/ofl/notosansbengali/NotoSansBengali[wdth,wght].ttf",
    ),
    Typeface(
        "Noto Sans Tamil",
        "justmytype_intl_south_asia",
        "fonts/ofl/notosanstamil/NotoSansTamil[wdth,wght].ttf",
    ),
    Typeface(
        "Noto Sans Telugu",
        "justmytype_intl_south_asia",
        "fonts/ofl/notosanstelugu/NotoSansTelugu[wdth,wght].ttf",
    ),
    Typeface("Noto Sans SC", "justmytype_intl_cjk", "fonts/ofl/notosanssc/NotoSansSC[wght].ttf"),
    Typeface("Noto Sans JP", "justmytype_intl_cjk", "fonts/ofl/notosansjp/NotoSansJP[wght].ttf"),
    Typeface("Noto Sans KR", "justmytype_intl_cjk", "fonts/ofl/notosanskr/NotoSansKR[wght].ttf"),
)
PRIMARY = FONTS[0]
RIGHT_TO_LEFT = frozenset(
    face for face in FONTS if face.family in {"Noto Sans Arabic", "Noto Sans Hebrew"}
)


@cache
def coverage(face: Typeface) -> frozenset[int]:
    """The code points ``face`` has a glyph for."""
    with TTFont(face.file, lazy=True) as font:
        return frozenset(font.getBestCmap())


def font_for(character: str) -> Typeface | None:
    """The first font with a glyph for ``character``; None if none has one."""
    point = ord(character)
    return next((face for face in FONTS if point in coverage(face)), None)


def _neutral(character: str) -> bool:
    """Spaces, digits, punctuation and marks: drawn in the run they are in when it can."""
    return unicodedata.category(character)[0] in "ZPNSM"


def runs(text: str) -> list[tuple[str, Typeface]]:
    """``text`` cut into (run, font) pieces, in logical order."""
    pieces: list[tuple[str, Typeface]] = []
    for character in text:
        current = pieces[-1][1] if pieces else None
        if (
            current is not None
            and ord(character) in coverage(current)
            and (_neutral(character) or font_for(character) is current)
        ):
            pieces[-1] = (pieces[-1][0] + character, current)
            continue
        face = font_for(character) or PRIMARY
        if pieces and pieces[-1][1] is face:
            pieces[-1] = (pieces[-1][0] + character, face)
        else:
            pieces.append((character, face))
    # A space after a right-to-left run belongs between it and what follows, not at its
    # (visual) left end.
    for index in range(len(pieces) - 1):
        run, face = pieces[index]
        if face in RIGHT_TO_LEFT and run != run.rstrip():
            stripped = run.rstrip()
            following, next_face = pieces[index + 1]
            pieces[index] = (stripped, face)
            pieces[index + 1] = (run[len(stripped) :] + following, next_face)
    return [(run, face) for run, face in pieces if run]


def missing(text: str) -> set[str]:
    """The characters of ``text`` no shipped font has a glyph for (controls excepted)."""
    return {c for c in text if unicodedata.category(c) != "Cc" and font_for(c) is None}


@lru_cache(maxsize=256)
def subset_data_uri(face: Typeface, text: str) -> str:
    """``face`` cut down to the glyphs ``text`` needs (with what shaping substitutes), as a
    ``data:font/ttf`` URI for an SVG's @font-face: its default (regular) instance, without
    hinting, so that cutting it takes a fraction of a second."""
    options = subset.Options()
    options.layout_features = ["*"]
    options.hinting = False
    options.notdef_outline = True
    options.drop_tables += ["gvar", "HVAR", "VVAR", "MVAR", "STAT", "fvar", "avar", "cvar"]
    font = TTFont(face.file, lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return "data:font/ttf;base64," + base64.b64encode(buffer.getvalue()).decode()
