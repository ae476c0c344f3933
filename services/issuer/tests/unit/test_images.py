"""Badge faces, baking and unbaking; the LinkedIn link."""

import io
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image

from issuer import faces
from issuer.standards import badge_baking

FACE = badge_baking.BadgeFace(
    heading="Micro-credential",
    title="Négociation interculturelle",
    learner_name="Zoë Ångström",
    details=("3.125 credit points", "65 notional hours"),
    language_note="Taught in French",
    issued_on="22 November 2026",
    verify_url="https://c.example/verify/1",
)


def test_a_baked_png_carries_one_uncompressed_itxt_chunk_with_the_payload() -> None:
    png = badge_baking.png(FACE, keyword="openbadgecredential", payload='{"id": "x"}')
    assert png.count(b"iTXt") == 1
    start = png.index(b"iTXt") + 4
    assert png[start : start + len("openbadgecredential") + 3] == b"openbadgecredential\x00\x00\x00"
    assert badge_baking.unbake(png) == badge_baking.Unbaked("3.0", '{"id": "x"}')


def test_an_svg_is_baked_first_thing_inside_svg_and_cdata_cannot_be_broken_out_of() -> None:
    svg = badge_baking.svg(FACE, credential={"name": "a ]]> b"})
    assert svg.index("<openbadges:credential>") < svg.index("<rect")
    assert badge_baking.unbake(svg.encode()).payload == '{"name": "a ]]> b"}'
    assert "Zoë Ångström" in svg and "TAUGHT IN FRENCH" in svg


def test_images_without_badge_data_are_refused() -> None:
    with pytest.raises(badge_baking.NotBaked):
        badge_baking.unbake(badge_baking.png(FACE))
    with pytest.raises(badge_baking.NotBaked):
        badge_baking.unbake(b"GIF89a")


def test_the_linkedin_link_is_filled_with_the_certification() -> None:
    document = {
        "validFrom": "2026-11-22T10:30:00Z",
        "validUntil": "2029-11-22T10:30:00Z",
        "credentialSubject": {
            "achievement": {"name": "Data (taught in French)", "inLanguage": "fr"}
        },
    }
    url = faces.linkedin_url(document, credential_id="c1", page_url="https://p", issuer_name="U")
    query = parse_qs(urlparse(url).query)
    assert query == {
        "startTask": ["CERTIFICATION_NAME"],
        "name": ["Data"],
        "organizationName": ["U"],
        "issueYear": ["2026"],
        "issueMonth": ["11"],
        "certUrl": ["https://p"],
        "certId": ["c1"],
        "expirationYear": ["2029"],
        "expirationMonth": ["11"],
    }


def test_the_face_reads_outcomes_and_result_from_the_credential() -> None:
    achievement = {
        "id": "https://i/achievements/1/versions/1",
        "name": "Data",
        "criteria": {
            "narrative": "Demonstrated, in assessment, each learning outcome:\n- Clean data\n"
            "- Explain it\n\nPass mark: 70% overall."
        },
        "resultDescription": [
            {"id": "r#overall", "resultType": "Percent", "requiredValue": "70"},
        ],
    }
    subject = {"result": [{"resultDescription": "r#overall", "value": "86"}]}
    assert faces.outcomes_of(achievement) == ("Clean data", "Explain it")
    assert faces.result_of(achievement, subject) == "86% (pass mark 70%)"


def _png_claiming(width: int, height: int) -> bytes:
    """A real PNG whose header claims `width`x`height` pixels (a decompression bomb's header)."""
    import struct
    import zlib

    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def test_a_decompression_bomb_png_is_refused_from_its_header() -> None:
    with pytest.raises(badge_baking.NotBaked, match="pixels"):
        badge_baking.unbake(_png_claiming(20_000, 20_000))
    with pytest.raises(badge_baking.NotBaked):
        badge_baking.unbake(_png_claiming(5000, 5000))


def test_an_svg_with_a_dtd_entity_is_refused_unexpanded() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&lol2;</text></svg>'
    )
    with pytest.raises(badge_baking.NotBaked, match="unreadable SVG"):
        badge_baking.unbake(laughs)
