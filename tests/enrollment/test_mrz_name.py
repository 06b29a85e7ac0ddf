"""MRZ name field: identifiers, fillers and truncation (ICAO 9303-3 §4.6)."""

from __future__ import annotations

import pytest

from enrollment.mrz_name import build_mrz_name, latin_components, propose_mrz_name


def test_short_name_is_padded_with_fillers_not_truncated() -> None:
    name = build_mrz_name("ERIKSSON", ["ANNA", "MARIA"])
    assert name.field == "ERIKSSON<<ANNA<MARIA" + "<" * 10
    assert len(name.field) == 30
    assert not name.truncated


def test_exact_fit_is_not_truncated() -> None:
    name = build_mrz_name("ABCDEFGHIJ", ["KLMNOPQRSTUVWXYZABC"])
    assert len("ABCDEFGHIJ<<KLMNOPQRSTUVWXYZABC") == 31
    exact = build_mrz_name("ABCDEFGHI", ["KLMNOPQRSTUVWXYZABC"])
    assert exact.field == "ABCDEFGHI<<KLMNOPQRSTUVWXYZABC" and not exact.truncated
    assert name.truncated


def test_secondary_identifier_is_truncated_first_from_its_last_component() -> None:
    name = build_mrz_name("NILAVADHANANANDA", ["CHAYAPA", "DEJTHAMRONG", "KRASUANG"])
    assert name.truncated
    assert name.field.startswith("NILAVADHANANANDA<<CHAYAPA<")
    assert len(name.field) == 30
    # Every secondary component keeps at least its initial.
    assert name.field.endswith("<K")


def test_truncated_field_ends_with_a_letter() -> None:
    name = build_mrz_name("ALRAZY", ["ABW", "BKR", "MXHMD", "BN", "ZKRYA", "ALTXHANY"])
    assert name.truncated
    assert name.field[-1].isalpha()
    assert name.field.startswith("ALRAZY<<")


def test_primary_identifier_is_truncated_only_after_secondary_reaches_initials() -> None:
    name = build_mrz_name("VANDERSTEENHOVENBERGHEKAMPER", ["MARIANNA", "LOUISE"])
    assert name.truncated
    assert name.field.endswith("<<M<L")
    assert name.field == "VANDERSTEENHOVENBERGHEKAM<<M<L"
    assert len(name.field) == 30


def test_arabic_name_proposal_uses_the_x_scheme() -> None:
    name = propose_mrz_name("الرازي", ["ابو بكر", "محمد", "بن زكريا"])
    assert name.field == "ALRAZY<<ABW<BKR<MXHMD<BN<ZKRYA"
    assert not name.truncated


@pytest.mark.parametrize(
    ("written", "components"),
    [("O'Brien", ["OBRIEN"]), ("Anne-Marie", ["ANNE", "MARIE"]), ("Müller", ["MULLER"]),
     ("Strauß", ["STRAUSS"])],
)
def test_latin_names_follow_the_mrz_character_rules(written: str, components: list[str]) -> None:
    assert latin_components(written) == components


def test_empty_primary_identifier_is_refused() -> None:
    with pytest.raises(ValueError):
        build_mrz_name("", ["ANNA"])
