# ruff: noqa: E501  (translated sentences stay whole, for translators)
"""The verification page's words in each shipped language (English, French), language names
(never codes) and long dates in each. Add a language: one more entry in each table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dateutil.parser import isoparse

from issuer.domain import Kind

#: Language names in each page language: "Taught in French", "Enseigné en anglais".
LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "ar": "Arabic", "de": "German", "el": "Greek", "en": "English", "es": "Spanish",
        "fa": "Persian", "fr": "French", "he": "Hebrew", "hi": "Hindi", "id": "Indonesian",
        "it": "Italian", "ja": "Japanese", "ko": "Korean", "ms": "Malay", "nl": "Dutch",
        "pt": "Portuguese", "ru": "Russian", "th": "Thai", "tr": "Turkish", "vi": "Vietnamese",
        "zh": "Chinese",
    },
    "fr": {
        "ar": "arabe", "de": "allemand", "el": "grec", "en": "anglais", "es": "espagnol",
        "fa": "persan", "fr": "français", "he": "hébreu", "hi": "hindi", "id": "indonésien",
        "it": "italien", "ja": "japonais", "ko": "coréen", "ms": "malais", "nl": "néerlandais",
        "pt": "portugais", "ru": "russe", "th": "thaï", "tr": "turc", "vi": "vietnamien",
        "zh": "chinois",
    },
}  # fmt: skip

MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"),
}  # fmt: skip

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "verified": "✓ Verified: this credential is authentic and valid",
        "not_valid": "✗ Not valid: {problem}",
        "badge_alt": "Badge: {title}",
        "description": "{heading} issued by {issuer} to {learner}",
        "kind_micro-credential": "Micro-credential",
        "kind_attendance": "Certificate of attendance",
        "kind_stack": "Micro-credential stack",
        "taught_in": "Taught in {language}",
        "awarded_to": "Awarded to",
        "issued_by": "Issued by",
        "issued_on": "Issued on",
        "earned_on": "Earned on",
        "valid_until": "Valid until",
        "no_expiry": "no expiry",
        "details": "Details",
        "result": "Result",
        "code": "Code",
        "credential_id": "Credential id",
        "checks": "Checks",
        "checked": "Checked {at} by the issuer. Anyone can check it independently with an Open Badges 3.0 verifier: the credential is signed (eddsa-rdfc-2022) by {did}.",
        "certifies": "What it certifies",
        "criteria": "Criteria",
        "skills": "Skills and frameworks",
        "evidence": "Evidence",
        "endorsements": "Industry endorsements",
        "endorsed_by": "Endorsed by {name}",
        "endorsement_verified": "endorsement verified",
        "endorsement_not_verified": "endorsement not verified",
        "endorsement_signed_by": "Recorded and signed by {issuer} on the endorser's behalf.",
        "share": "Share and download",
        "linkedin": "Add to LinkedIn profile",
        "pdf": "Printable certificate (PDF)",
        "png": "Badge image (PNG)",
        "svg": "Badge image (SVG)",
        "json": "Credential (JSON)",
        "ob2": "Open Badges 2.0 assertion",
        "language": "Language",
        "not_found": "Credential not found",
        "not_found_text": "{issuer} holds no credential at this address. Check the link you were given: it may be incomplete or mistyped.",
    },
    "fr": {
        "verified": "✓ Vérifiée : cette certification est authentique et valide",
        "not_valid": "✗ Non valide : {problem}",
        "badge_alt": "Badge : {title}",
        "description": "{heading} délivré par {issuer} à {learner}",
        "kind_micro-credential": "Microcertification",
        "kind_attendance": "Attestation de présence",
        "kind_stack": "Ensemble de microcertifications",
        "taught_in": "Enseigné en {language}",
        "awarded_to": "Décernée à",
        "issued_by": "Délivrée par",
        "issued_on": "Délivrée le",
        "earned_on": "Obtenue le",
        "valid_until": "Valide jusqu'au",
        "no_expiry": "sans date d'expiration",
        "details": "Détails",
        "result": "Résultat",
        "code": "Code",
        "credential_id": "Identifiant",
        "checks": "Vérifications",
        "checked": "Vérifiée le {at} par l'émetteur. Chacun peut la vérifier de façon indépendante avec un vérificateur Open Badges 3.0 : la certification est signée (eddsa-rdfc-2022) par {did}.",
        "certifies": "Ce qu'elle certifie",
        "criteria": "Critères",
        "skills": "Compétences et référentiels",
        "evidence": "Preuves",
        "endorsements": "Reconnaissances professionnelles",
        "endorsed_by": "Reconnue par {name}",
        "endorsement_verified": "reconnaissance vérifiée",
        "endorsement_not_verified": "reconnaissance non vérifiée",
        "endorsement_signed_by": "Enregistrée et signée par {issuer} pour le compte de l'organisme.",
        "share": "Partager et télécharger",
        "linkedin": "Ajouter au profil LinkedIn",
        "pdf": "Certificat imprimable (PDF)",
        "png": "Image du badge (PNG)",
        "svg": "Image du badge (SVG)",
        "json": "Certification (JSON)",
        "ob2": "Assertion Open Badges 2.0",
        "language": "Langue",
        "not_found": "Certification introuvable",
        "not_found_text": "{issuer} ne détient aucune certification à cette adresse. Vérifiez le lien reçu : il est peut-être incomplet ou mal saisi.",
    },
}

SHIPPED = frozenset(TEXTS)


def page_language(asked: str | None, accept_language: str) -> str:
    """``?lang=`` if shipped, else the first shipped one the browser accepts, else English."""
    wanted = [asked or ""] + [part.split(";")[0].strip() for part in accept_language.split(",")]
    for tag in wanted:
        primary = tag.split("-")[0].casefold()
        if primary in SHIPPED:
            return primary
    return "en"


def language_name(tag: str, language: str) -> str:
    """``"fr-CA"`` in English -> ``"French"``; an unknown tag is returned unchanged."""
    return LANGUAGE_NAMES[language].get(tag.casefold().split("-")[0], tag)


def taught_in(achievement: Mapping[str, Any], language: str) -> str | None:
    """``"Taught in French"`` / ``"Enseigné en anglais"``: always named unless both the
    course and the page are English (policy: a non-English language of instruction is shown
    prominently)."""
    tag = achievement.get("inLanguage")
    if not tag or (tag.casefold().split("-")[0] == "en" and language == "en"):
        return None
    return TEXTS[language]["taught_in"].format(language=language_name(tag, language))


def long_date(value: str, language: str) -> str:
    """``2026-11-22T10:30:00Z`` -> ``22 November 2026`` / ``22 novembre 2026``."""
    moment = isoparse(value)
    return f"{moment.day} {MONTHS[language][moment.month - 1]} {moment.year}"


def kind_heading(kind: Kind | str, language: str) -> str:
    return TEXTS[language][f"kind_{kind}"]
