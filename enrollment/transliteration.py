"""ICAO Doc 9303-3 §6 transliteration of Arabic names into the MRZ character set."""

from __future__ import annotations

import re

from enrollment.arabic import _DIACRITICS, clean_arabic

TEH_MARBUTA = "\u0629"

# ICAO 9303-3 §6 (Arabic, "X-scheme"): one Latin letter where unambiguous, an X-escape otherwise.
ICAO_ARABIC: dict[str, str] = {
    "\u0627": "A",  # alef
    "\u0628": "B",  # beh
    "\u062a": "T",  # teh
    "\u062b": "XTH",  # theh
    "\u062c": "J",  # jeem
    "\u062d": "XH",  # hah
    "\u062e": "XKH",  # khah
    "\u062f": "D",  # dal
    "\u0630": "XDH",  # thal
    "\u0631": "R",  # reh
    "\u0632": "Z",  # zain
    "\u0633": "S",  # seen
    "\u0634": "XSH",  # sheen
    "\u0635": "XSS",  # sad
    "\u0636": "XDZ",  # dad
    "\u0637": "XTT",  # tah
    "\u0638": "XZZ",  # zah
    "\u0639": "E",  # ain
    "\u063a": "G",  # ghain
    "\u0641": "F",  # feh
    "\u0642": "Q",  # qaf
    "\u0643": "K",  # kaf
    "\u0644": "L",  # lam
    "\u0645": "M",  # meem
    "\u0646": "N",  # noon
    "\u0647": "H",  # heh
    "\u0648": "W",  # waw
    "\u064a": "Y",  # yeh
    "\u0649": "XAY",  # alef maksura
    "\u0671": "XXA",  # alef wasla
    "\u0621": "XE",  # hamza
    "\u0622": "XAA",  # alef with madda
    "\u0623": "XAE",  # alef with hamza above
    "\u0624": "U",  # waw with hamza
    "\u0625": "I",  # alef with hamza below
    "\u0626": "XI",  # yeh with hamza
    TEH_MARBUTA: "XTA",  # teh marbuta inside a component
    # Table C's extended rows (Persian, Urdu, Pashto letters) for the ones a name field accepts.
    "\u067e": "P",  # peh
    "\u0686": "XC",  # tcheh
    "\u0698": "XJ",  # jeh
    "\u06a9": "XKK",  # keheh
    "\u06af": "XGG",  # gaf
    "\u06cc": "XYA",  # Farsi yeh
}
TEH_MARBUTA_FINAL = "XAH"


class TransliterationError(ValueError):
    """A character has no ICAO transliteration."""

    def __init__(self, char: str, text: str) -> None:
        super().__init__(f"no ICAO transliteration for {char!r} (U+{ord(char):04X}) in {text!r}")
        self.char = char


def _component(word: str, original: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(word):
        if ch == TEH_MARBUTA and i == len(word) - 1:
            out.append(TEH_MARBUTA_FINAL)
        elif ch in ICAO_ARABIC:
            out.append(ICAO_ARABIC[ch])
        else:
            raise TransliterationError(ch, original)
    return "".join(out)


def transliterate_components(text: str) -> list[str]:
    """Transliterate each space-separated Arabic component (ICAO 9303-3 §6); vowel marks dropped."""
    words = _DIACRITICS.sub("", clean_arabic(text)).split()
    return [_component(w, text) for w in words]


def untransliterable(text: str) -> str | None:
    """The first letter of `text` ICAO 9303-3 gives no transliteration for (e.g. veh), or None."""
    letters = _DIACRITICS.sub("", clean_arabic(text)).replace(" ", "")
    return next((ch for ch in letters if ch not in ICAO_ARABIC), None)


def transliterate(text: str) -> str:
    """Transliterate an Arabic name to the MRZ form, components joined by '<' (ICAO 9303-3 §6)."""
    return "<".join(transliterate_components(text))


_MRZ_NAME_CHARS = re.compile(r"^[A-Z<]*$")


def is_mrz_charset(text: str) -> bool:
    """True if the text uses only A-Z and the '<' filler (ICAO 9303-3 §4.4)."""
    return bool(_MRZ_NAME_CHARS.match(text))
