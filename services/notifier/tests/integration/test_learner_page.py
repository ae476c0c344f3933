"""The learner page: what each enrolment waits for, results, credentials (no LinkedIn for a
revoked one), stack progress, preferences; English or French, language names not codes."""

from datetime import timedelta
from typing import Any
from uuid import uuid4

from credstack.contracts.assessment import AssessmentPassed
from credstack.contracts.catalogue import StackPublished
from credstack.contracts.enrolment import WaitlistSeatOffered
from credstack.contracts.issuer import CredentialRevoked
from credstack.testing import ServiceUnderTest

from ..events import NOW, Learner, micro_credential, offering_of
from .conftest import deliver_all


async def test_the_page_shows_what_each_enrolment_waits_for_and_each_credential(
    notifier: ServiceUnderTest, tokens: Any
) -> None:
    ada = Learner()
    french, other, third = (
        micro_credential(title="Analyse de données", language="fr"),
        micro_credential(title="Data Ethics"),
        micro_credential(title="Data Viz"),
    )
    offered_in, passed_in = offering_of(french), offering_of(other)
    waiting, done = uuid4(), uuid4()
    first = ada.issued(other, done)
    revoked = ada.issued(third, uuid4())
    await deliver_all(
        notifier,
        ada.contact(),
        french,
        other,
        third,
        offered_in,
        passed_in,
        StackPublished(
            stack_id=uuid4(),
            version=1,
            code="MC-SERIES",
            title="Data for Decisions",
            description="A series",
            kind="series",
            members=[
                other.micro_credential_id,
                third.micro_credential_id,
                french.micro_credential_id,
            ],
            required_count=3,
            credit_points=7,
            published_at=NOW,
        ),
        ada.requested(offered_in, waiting),
        WaitlistSeatOffered(
            enrolment_id=waiting,
            learner_id=ada.id,
            offering_id=offered_in.offering_id,
            offer_expires_at=NOW + timedelta(hours=48),
            offered_at=NOW,
        ),
        ada.requested(passed_in, done),
        ada.confirmed(passed_in, done),
        AssessmentPassed(
            enrolment_id=done,
            learner_id=ada.id,
            micro_credential_id=other.micro_credential_id,
            micro_credential_version=1,
            decided_at=NOW,
            score=90,
        ),
        first,
        revoked,
        CredentialRevoked(
            credential_id=revoked.credential_id,
            learner_id=ada.id,
            reason="regraded",
            revoked_at=NOW,
        ),
    )
    response = await notifier.http.get("/learners/me/page", headers=tokens("learner", ada.subject))
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["name"] == ada.name
    by_title = {e["title"]: e for e in page["enrolments"]}
    assert by_title["Analyse de données"]["waiting_for"]["what"] == "seat_offer"
    assert by_title["Analyse de données"]["waiting_for"]["until"].startswith("2027-01-12T09:00")
    assert by_title["Analyse de données"]["taught_in"] == "fr"
    assert (by_title["Data Ethics"]["stage"], by_title["Data Ethics"]["result"]) == (
        "confirmed",
        "passed",
    )
    credentials = {c["title"]: c for c in page["credentials"]}
    valid, gone = credentials["Data Ethics"], credentials["Data Viz"]
    assert valid["status"] == "active" and "linkedin.com" in valid["linkedin_url"]
    assert valid["pdf_url"].endswith(f"/credentials/{first.credential_id}/certificate.pdf")
    assert gone["status"] == "revoked" and gone["linkedin_url"] is None
    assert [(s["title"], s["held"], s["required"]) for s in page["stacks"]] == [
        ("Data for Decisions", 1, 3)
    ]
    assert page["clr_url"].endswith("/learners/me/clr")


async def test_the_page_needs_a_signed_in_learner(notifier: ServiceUnderTest, tokens: Any) -> None:
    assert (await notifier.http.get("/learners/me/page")).status_code == 401
    staff = await notifier.http.get("/learners/me/page", headers=tokens("staff"))
    assert staff.status_code == 403


async def test_the_html_page_speaks_the_browsers_language(notifier: ServiceUnderTest) -> None:
    french = await notifier.http.get("/learner", headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    english = await notifier.http.get("/learner", headers={"Accept-Language": "de, en;q=0.5"})
    chosen = await notifier.http.get("/learner?lang=fr")
    assert french.status_code == 200 and '<html lang="fr">' in french.text
    assert "Mon parcours" in french.text and '"fr": "fran\\u00e7ais"' in french.text
    assert '<html lang="en">' in english.text and "My learning" in english.text
    assert french.headers["content-language"] == "fr" and chosen.headers["content-language"] == "fr"
