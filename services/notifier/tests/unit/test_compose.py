"""Templates: every message kind in every shipped language, the reader's language chosen,
HTML escaped and links clickable."""

import re
from typing import Any

import pytest

from notifier.compose import catalogues, compose, shipped_languages
from notifier.domain import Kind, cancellation_message, choose_language

FACTS: dict[str, Any] = {
    "name": "Zoë Łukasiewicz 李雷",
    "title": "Données <ouvertes> & co",
    "organisation": "Credstack University",
    "url": "https://issuer.example/credentials/1",
    "linkedin_url": "https://www.linkedin.com/profile/add?name=a&certId=1",
    "learner_url": "https://learners.example/learner",
    "enrol_url": "https://catalogue.example/micro-credentials/MC-1",
    "confirm_url": "https://learners.example/interest/confirm?token=t",
    "unsubscribe_url": "https://learners.example/unsubscribe?token=t",
    "starts_on": "2027-02-01",
    "ends_on": "2027-03-01",
    "deadline": "2027-01-20 17:00 (Australia/Sydney)",
    "closes_at": "2027-01-25 17:00 (Australia/Sydney)",
    "paid_at": "2027-01-10 09:00 (Australia/Sydney)",
    "amount": "AUD 450.00",
    "enrolment_id": "e-1",
    "reason": "card declined",
    "final": False,
}


def test_english_and_french_are_shipped_and_translate_every_message() -> None:
    assert shipped_languages() == {"en", "fr"}
    for language in ("en", "fr"):
        assert set(catalogues()[language]) == {k.value for k in Kind}


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_message_renders_in_both_languages(kind: Kind, language: str) -> None:
    composed = compose(kind, FACTS, language)
    assert composed.language == language
    assert composed.subject and "\n" not in composed.subject
    assert "{{" not in composed.text and "{%" not in composed.text
    assert "<ouvertes>" not in composed.html  # escaped
    assert "Données &lt;ouvertes&gt; &amp; co" in composed.html
    assert f'lang="{language}"' in composed.html


def test_the_french_text_is_french_and_the_english_english() -> None:
    english = compose(Kind.CREDENTIAL_ISSUED, FACTS, "en")
    french = compose(Kind.CREDENTIAL_ISSUED, FACTS, "fr")
    assert english.text.startswith("Dear Zoë Łukasiewicz 李雷,")
    assert french.text.startswith("Bonjour Zoë Łukasiewicz 李雷,")
    assert french.subject == "Votre micro-certification : Données <ouvertes> & co"


def test_links_become_anchors_with_their_query_escaped() -> None:
    html = compose(Kind.CREDENTIAL_ISSUED, FACTS, "en").html
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs == [
        "https://issuer.example/credentials/1",
        "https://www.linkedin.com/profile/add?name=a&amp;certId=1",
    ]


def test_a_missing_variable_is_an_error_not_a_blank() -> None:
    with pytest.raises(Exception, match="undefined"):
        compose(Kind.SEAT_OFFERED, {"name": "Ada", "title": "X"}, "en")


@pytest.mark.parametrize(
    ("preferred", "chosen"),
    [
        (("fr",), "fr"),
        (("fr-CA",), "fr"),
        (("FR",), "fr"),
        (("de", "fr"), "fr"),
        ((None, "fr"), "fr"),
        (("de",), "en"),
        ((), "en"),
        (("en", "fr"), "en"),
    ],
)
def test_the_first_preferred_language_with_a_translation_wins(
    preferred: tuple[str | None, ...], chosen: str
) -> None:
    assert choose_language(frozenset({"en", "fr"}), *preferred) == chosen


def test_each_cancellation_cause_has_its_message() -> None:
    assert cancellation_message("offer_lapsed") is Kind.OFFER_LAPSED
    assert cancellation_message("payment_expired") is Kind.PAYMENT_EXPIRED
    assert cancellation_message("offering_cancelled") is Kind.OFFERING_CANCELLED
    assert cancellation_message("by_learner") is Kind.ENROLMENT_CANCELLED
    assert cancellation_message(None) is Kind.ENROLMENT_CANCELLED
