"""What people, backpacks and verifiers read: OB 2.0, images, the page, the verification API."""

import json
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs, urlparse
from uuid import uuid4

from PIL import Image

from credstack.testing import ServiceUnderTest
from issuer.standards import badge_baking

from ..events import Learner, micro_credential, passed
from .conftest import deliver_all, issued


async def one_credential(issuer: ServiceUnderTest, **changes: Any) -> Any:
    item, ada = micro_credential(**changes), Learner()
    enrolment = ada.confirmed(item)
    await deliver_all(issuer, item, enrolment, passed(enrolment))
    [row] = await issued(issuer)
    return row


async def test_ob2_assertion_badge_class_and_issuer_are_hosted_and_linked(
    issuer: ServiceUnderTest,
) -> None:
    row = await one_credential(issuer)
    assertion = (await issuer.http.get(f"/ob2/assertions/{row.id}")).json()

    assert assertion["@context"] == "https://w3id.org/openbadges/v2"
    assert assertion["id"] == f"http://localhost:8004/ob2/assertions/{row.id}"
    identity = row.document["credentialSubject"]["identifier"][0]
    assert assertion["recipient"] == {
        "type": "email",
        "hashed": True,
        "salt": identity["salt"],
        "identity": identity["identityHash"],
    }
    assert assertion["verification"] == {"type": "hosted"}
    badge = (await issuer.http.get(assertion["badge"])).json()
    assert badge["type"] == "BadgeClass" and badge["name"] == "Data Cleaning"
    assert badge["alignment"][0]["targetName"] == "Data quality"
    profile = (await issuer.http.get(badge["issuer"])).json()
    assert profile["type"] == "Issuer" and profile["url"] == "https://credstack.dev"
    image = await issuer.http.get(badge["image"])
    assert image.headers["content-type"] == "image/png"
    achievement = (await issuer.http.get(badge["criteria"]["id"])).json()
    assert achievement == row.document["credentialSubject"]["achievement"]


async def test_baked_images_carry_the_credential_or_the_assertion(
    issuer: ServiceUnderTest,
) -> None:
    row = await one_credential(issuer)
    base = f"/credentials/{row.id}"

    png = (await issuer.http.get(f"{base}/image.png")).content
    assert json.loads(badge_baking.unbake(png).payload) == row.document
    with Image.open(BytesIO(png)) as image:
        assert image.size == (badge_baking.SIZE, badge_baking.SIZE)
        assert list(image.text) == ["openbadgecredential"]
    svg = (await issuer.http.get(f"{base}/image.svg")).content
    assert b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in svg
    assert json.loads(badge_baking.unbake(svg).payload) == row.document
    assertion = (await issuer.http.get(f"/ob2/assertions/{row.id}")).json()
    ob2_png = badge_baking.unbake((await issuer.http.get(f"{base}/ob2.png")).content)
    assert ob2_png.version == "2.0" and json.loads(ob2_png.payload) == assertion
    ob2_svg = (await issuer.http.get(f"{base}/ob2.svg")).text
    assert f'<openbadges:assertion verify="{assertion["id"]}">' in ob2_svg
    assert "Ada Lovelace" in ob2_svg and "3.125 credit points" in ob2_svg
    assert "65 notional hours · 60 CPD hours" in ob2_svg


async def test_the_verification_page_shows_the_checks_downloads_and_a_linkedin_link(
    issuer: ServiceUnderTest,
) -> None:
    row = await one_credential(issuer)
    page = await issuer.http.get(f"/verify/{row.id}")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert 'name="viewport"' in html
    assert "Verified: this credential is authentic and valid" in html
    for text in ("Data Cleaning", "Ada Lovelace", "Signature", "Issuer", "Status", "Schema"):
        assert text in html
    for link in ("/image.png", "/image.svg", "/certificate.pdf", f"/ob2/assertions/{row.id}"):
        assert link in html
    start = html.index("https://www.linkedin.com/profile/add?")
    linkedin = parse_qs(urlparse(html[start : html.index('"', start)].replace("&amp;", "&")).query)
    assert linkedin["startTask"] == ["CERTIFICATION_NAME"]
    assert linkedin["name"] == ["Data Cleaning"]
    assert linkedin["organizationName"] == ["Credstack University, Centre for Continuing Education"]
    assert linkedin["certId"] == [str(row.id)]
    assert linkedin["certUrl"] == [f"http://localhost:8004/verify/{row.id}"]
    assert "expirationYear" in linkedin and "issueMonth" in linkedin
    browser = await issuer.http.get(f"/credentials/{row.id}", headers={"Accept": "text/html"})
    assert browser.status_code == 303 and browser.headers["location"].endswith(f"/verify/{row.id}")


async def test_the_printable_certificate_is_a_pdf(issuer: ServiceUnderTest) -> None:
    row = await one_credential(issuer)
    response = await issuer.http.get(f"/credentials/{row.id}/certificate.pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.content.count(b"/Type /Page\n") == 1  # one printable page


async def test_the_verification_api_reads_json_jwt_and_baked_images(
    issuer: ServiceUnderTest,
) -> None:
    row = await one_credential(issuer)
    base = f"/credentials/{row.id}"
    jwt = (await issuer.http.get(f"{base}/jwt")).text
    inputs = {
        "JSON": (json.dumps(row.document).encode(), "application/json"),
        "VC-JWT": (jwt.encode(), "text/plain"),
        "baked image (OB 3.0), JSON": (
            (await issuer.http.get(f"{base}/image.png")).content,
            "image/png",
        ),
        "baked image (OB 3.0), JSON ": (
            (await issuer.http.get(f"{base}/image.svg")).content,
            "image/svg+xml",
        ),
        "baked image (OB 2.0), OB 2.0 assertion": (
            (await issuer.http.get(f"{base}/ob2.png")).content,
            "image/png",
        ),
    }
    for expected_format, (body, media_type) in inputs.items():
        verdict = (
            await issuer.http.post("/verify", content=body, headers={"Content-Type": media_type})
        ).json()
        assert verdict["verified"] is True, (expected_format, verdict)
        assert verdict["format"] == expected_format.strip()
        assert [c["name"] for c in verdict["checks"]] == [
            "signature",
            "issuer",
            "validity",
            "status",
            "schema",
        ]


async def test_the_verification_api_reports_what_fails(issuer: ServiceUnderTest) -> None:
    row = await one_credential(issuer)
    document = row.document

    def outcome(verdict: dict[str, Any]) -> dict[str, bool | None]:
        return {c["name"]: c["ok"] for c in verdict["checks"]}

    tampered = {**document, "name": "Quantum Physics"}
    verdict = (await issuer.http.post("/verify", json=tampered)).json()
    assert verdict["verified"] is False and outcome(verdict)["signature"] is False

    impostor = {**document, "issuer": {**document["issuer"], "id": "did:web:elsewhere.example"}}
    assert outcome((await issuer.http.post("/verify", json=impostor)).json())["issuer"] is False

    undefined = {**document, "favouriteColour": "blue"}
    verdict = (await issuer.http.post("/verify", json=undefined)).json()
    assert "favouriteColour" in {c["name"]: c for c in verdict["checks"]}["signature"]["detail"]

    jwt = (await issuer.http.get(f"/credentials/{row.id}/jwt")).text
    forged = jwt[:-4] + ("AAAA" if not jwt.endswith("AAAA") else "BBBB")
    verdict = (await issuer.http.post("/verify", content=forged)).json()
    assert verdict["verified"] is False and outcome(verdict) == {"signature": False}


async def test_unreadable_input_to_the_verification_api_is_a_400_problem(
    issuer: ServiceUnderTest,
) -> None:
    for body in (b"", b"hello", b"{not json", b"\x89PNG\r\n\x1a\nbroken", b"<svg></svg>"):
        response = await issuer.http.post("/verify", content=body)
        assert response.status_code == 400, body
        assert response.headers["content-type"] == "application/problem+json"


async def test_the_did_document_lists_every_key_as_an_assertion_method(
    issuer: ServiceUnderTest,
) -> None:
    did = (await issuer.http.get("/.well-known/did.json")).json()
    assert did["id"] == "did:web:localhost%3A8004"
    assert did["assertionMethod"] == [m["id"] for m in did["verificationMethod"]]
    assert all(m["type"] == "Multikey" for m in did["verificationMethod"])


async def test_an_oversized_body_is_refused_before_it_is_read_as_a_credential(
    issuer: ServiceUnderTest,
) -> None:
    response = await issuer.http.post("/verify", content=b"{" + b" " * (5 * 1024 * 1024))
    assert response.status_code == 413


async def test_the_verification_page_speaks_english_or_french_with_language_names(
    issuer: ServiceUnderTest,
) -> None:
    french = await one_credential(issuer, language="fr")
    chosen = await issuer.http.get(f"/verify/{french.id}?lang=fr")
    browser = await issuer.http.get(
        f"/verify/{french.id}", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"}
    )
    default = await issuer.http.get(f"/verify/{french.id}", headers={"Accept-Language": "de"})

    assert chosen.headers["content-language"] == "fr" and '<html lang="fr">' in chosen.text
    assert "Enseigné en français" in chosen.text and "Vérifiée : cette certification" in chosen.text
    assert "Ajouter au profil LinkedIn" in chosen.text
    assert browser.headers["content-language"] == "fr" and "Délivrée le" in browser.text
    assert default.headers["content-language"] == "en" and "Taught in French" in default.text
    assert "Verified: this credential is authentic and valid" in default.text
    missing = await issuer.http.get(f"/verify/{uuid4()}?lang=fr", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "Certification introuvable" in missing.text
