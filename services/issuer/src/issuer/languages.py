"""English names of languages of instruction, from their BCP 47 primary subtag.

The university policy wants a non-English language of instruction named prominently
on the credential; a tag not listed here is shown as the tag itself.
"""

LANGUAGE_NAMES = {
    "ar": "Arabic",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "hi": "Hindi",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "ms": "Malay",
    "nl": "Dutch",
    "pt": "Portuguese",
    "ru": "Russian",
    "th": "Thai",
    "tr": "Turkish",
    "vi": "Vietnamese",
    "zh": "Chinese",
}


def language_name(tag: str) -> str:
    """``"fr-CA"`` -> ``"French"``; an unknown tag is returned unchanged."""
    return LANGUAGE_NAMES.get(tag.lower().split("-")[0], tag)
