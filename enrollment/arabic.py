"""Arabic script helpers: script detection and normalisation for matching."""

from __future__ import annotations

import re
import unicodedata

# Harakat, tanween, shadda, sukun, superscript alef and Quranic marks carry no identity
# information for matching and are often omitted by clerks; drop them.
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
TATWEEL = "\u0640"

_MATCH_FOLD = str.maketrans(
    {
        "\u0623": "\u0627",  # alef with hamza above -> alef
        "\u0625": "\u0627",  # alef with hamza below -> alef
        "\u0622": "\u0627",  # alef with madda -> alef
        "\u0671": "\u0627",  # alef wasla -> alef
        "\u0624": "\u0648",  # waw with hamza -> waw
        "\u0626": "\u064a",  # yeh with hamza -> yeh
        "\u0649": "\u064a",  # alef maksura -> yeh
        "\u0629": "\u0647",  # teh marbuta -> heh
        "\u06a9": "\u0643",  # Persian keheh -> kaf
        "\u06cc": "\u064a",  # Farsi yeh -> yeh
        "\u0621": None,  # bare hamza is spelt inconsistently; ignore it
    }
)

# Letters of the Arabic block a name may contain (base letters, hamza forms, Farsi variants).
_ARABIC_LETTER = re.compile("[\u0621-\u063a\u0641-\u064a\u0671\u067e\u0686\u06a4\u06a9\u06af\u06cc]")
_ARABIC_NAME = re.compile(
    "^[\u0621-\u063a\u0641-\u064a\u0671\u067e\u0686\u06a4\u06a9\u06af\u06cc"
    "\u0610-\u061a\u064b-\u065f\u0670\u0640 ]+$"
)


def clean_arabic(text: str) -> str:
    """Fold presentation forms (NFKC), drop tatweel and collapse spaces; keeps spelling."""
    folded = unicodedata.normalize("NFKC", text).replace(TATWEEL, "")
    return " ".join(folded.split())


def is_arabic_name(text: str) -> bool:
    """True if the text is Arabic letters (with optional marks) and single spaces only."""
    cleaned = clean_arabic(text)
    return bool(cleaned) and bool(_ARABIC_NAME.match(cleaned)) and bool(
        _ARABIC_LETTER.search(cleaned)
    )


def normalize_for_matching(text: str) -> str:
    """Matching key: alef/hamza variants, teh marbuta, alef maksura, tatweel and marks folded."""
    cleaned = _DIACRITICS.sub("", clean_arabic(text))
    return " ".join(cleaned.translate(_MATCH_FOLD).split())
