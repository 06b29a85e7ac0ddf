"""ICAO 9303-3 X-scheme transliteration (DESIGN.md section 10)."""

from __future__ import annotations

import pytest

from enrollment.transliteration import TransliterationError, transliterate

# The table of DESIGN.md section 10, one letter at a time (placed inside a component so
# that teh marbuta takes its medial form).
TABLE = [
    ("ا", "A"), ("ب", "B"), ("ت", "T"), ("ج", "J"), ("د", "D"), ("ر", "R"), ("ز", "Z"),
    ("س", "S"), ("ع", "E"), ("غ", "G"), ("ف", "F"), ("ق", "Q"), ("ك", "K"), ("ل", "L"),
    ("م", "M"), ("ن", "N"), ("ه", "H"), ("و", "W"), ("ي", "Y"),
    ("ث", "XTH"), ("ح", "XH"), ("خ", "XKH"), ("ذ", "XDH"), ("ش", "XSH"), ("ص", "XSS"),
    ("ض", "XDZ"), ("ط", "XTT"), ("ظ", "XZZ"), ("ى", "XAY"), ("ٱ", "XXA"),
    ("ء", "XE"), ("آ", "XAA"), ("أ", "XAE"), ("ؤ", "U"), ("إ", "I"), ("ئ", "XI"),
]


@pytest.mark.parametrize(("letter", "latin"), TABLE)
def test_each_letter_of_the_icao_table(letter: str, latin: str) -> None:
    assert transliterate(letter + "ب") == latin + "B"


def test_worked_example_from_the_standard() -> None:
    assert transliterate("ابو بكر محمد بن زكريا الرازي") == "ABW<BKR<MXHMD<BN<ZKRYA<ALRAZY"


def test_teh_marbuta_at_end_of_component_is_xah() -> None:
    assert transliterate("فاطمة") == "FAXTTMXAH"
    assert transliterate("فاطمة الزهراء") == "FAXTTMXAH<ALZHRAXE"


def test_teh_marbuta_inside_a_component_is_xta() -> None:
    assert transliterate("ةب") == "XTAB"


def test_vowel_marks_and_tatweel_are_dropped() -> None:
    assert transliterate("مُحَمَّد") == "MXHMD"
    assert transliterate("محـــمد") == "MXHMD"


def test_presentation_forms_are_folded_first() -> None:
    # U+FEFB is the lam-alef ligature some keyboards produce.
    assert transliterate("\ufefb") == "LA"


def test_untransliterable_character_is_an_error() -> None:
    with pytest.raises(TransliterationError) as err:
        transliterate("محمد1")
    assert err.value.char == "1"
