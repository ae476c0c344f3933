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
    "held": 2,
    "required": 4,
    "expires_on": "2030-01-10",
    "wallet_url": None,
    "wallet_offer_url": None,
    "wallet_until": None,
}

WALLET: dict[str, Any] = {
    "wallet_url": "https://issuer.example/verify/1?claim=s3cret",
    "wallet_offer_url": "openid-credential-offer://?credential_offer=%7B%22a%22%3A1%7D",
    "wallet_until": "2027-01-24",
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


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_credential_email_carries_the_wallet_claim_links_when_there_are_some(
    language: str,
) -> None:
    without = compose(Kind.CREDENTIAL_ISSUED, FACTS, language)
    assert "claim=" not in without.text and "openid-credential-offer" not in without.text
    assert "\n\n\n" not in without.text  # no gap where the wallet paragraph would be

    composed = compose(Kind.CREDENTIAL_ISSUED, FACTS | WALLET, language)
    assert WALLET["wallet_url"] in composed.text
    assert WALLET["wallet_offer_url"] in composed.text
    assert "2027-01-24" in composed.text
    assert ("wallet" if language == "en" else "portefeuille") in composed.text
    hrefs = re.findall(r'href="([^"]+)"', composed.html)
    assert "https://issuer.example/verify/1?claim=s3cret" in hrefs  # QR page: scan it
    assert WALLET["wallet_offer_url"] in hrefs  # a wallet on this phone opens it


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("en", "2 of 4 in Données <ouvertes> & co", "you now hold 2 of the 4"),
        ("fr", "2 sur 4 pour Données <ouvertes> & co", "vous en détenez maintenant 2 sur les 4"),
    ],
)
def test_stack_progress_says_how_many_of_how_many(language: str, subject: str, words: str) -> None:
    composed = compose(Kind.STACK_PROGRESS, FACTS, language)
    assert composed.subject == subject
    assert words in composed.text
    assert ("2 more" if language == "en" else "encore 2") in composed.text


@pytest.mark.parametrize(
    ("language", "subject"),
    [
        ("en", "Your micro-credential Données <ouvertes> & co expires on 2030-01-10"),
        ("fr", "Votre micro-certification Données <ouvertes> & co expire le 2030-01-10"),
    ],
)
def test_the_expiry_reminder_names_the_date_and_how_to_stop_reminders(
    language: str, subject: str
) -> None:
    composed = compose(Kind.CREDENTIAL_EXPIRING, FACTS, language)
    assert composed.subject == subject
    assert FACTS["url"] in composed.text and FACTS["learner_url"] in composed.text
    assert ("reminders are on" if language == "en" else "rappels sont activés") in composed.text
