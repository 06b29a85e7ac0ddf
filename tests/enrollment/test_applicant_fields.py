"""Applicant data rules: every field, bilingual errors naming field and rule."""

from __future__ import annotations

from datetime import date

import pytest

from enrollment.arabic import is_arabic_name, normalize_for_matching
from enrollment.errors import ValidationError
from enrollment.fields import validate_applicant
from enrollment.rules import (
    ApplicantRules,
    NationalNumberRule,
    icao_check_digit,
    luhn_check_digit,
    rules_from_config,
)

TODAY = date(2026, 11, 28)


def valid(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "first_name_ar": "محمد",
        "father_name_ar": "أحمد",
        "grandfather_name_ar": "علي",
        "family_name_ar": "الرازي",
        "given_names_latin": "Mohammed Ahmad",
        "surname_latin": "Al-Razi",
        "national_number": NationalNumberRule().complete("198003123"),
        "birth_date": "1980-03-12",
        "sex": "m",
        "nationality": "jor",
        "issuing_state": "JOR",
    }
    data.update(changes)
    return data


def errors_of(data: dict[str, object], rules: ApplicantRules | None = None) -> dict[str, str]:
    with pytest.raises(ValidationError) as err:
        validate_applicant(data, rules or ApplicantRules(), today=TODAY)
    return {e.field: e.rule for e in err.value.errors}


def test_valid_data_is_normalised() -> None:
    a = validate_applicant(valid(), today=TODAY)
    assert a.sex == "M" and a.nationality == "JOR"
    assert a.given_names_latin == "MOHAMMED AHMAD" and a.surname_latin == "AL-RAZI"
    assert a.birth_date == date(1980, 3, 12)
    assert a.full_name_ar == "محمد أحمد علي الرازي"


def test_error_names_field_rule_and_both_languages() -> None:
    with pytest.raises(ValidationError) as err:
        validate_applicant(valid(birth_date="2027-01-01"), today=TODAY)
    (e,) = err.value.errors
    assert (e.field, e.rule) == ("birth_date", "not_future")
    assert str(e) == "birth_date: must not be in the future"
    assert "المستقبل" in e.message_ar
    assert e.as_dict()["message_en"] == "must not be in the future"


def test_all_errors_are_reported_together() -> None:
    found = errors_of(valid(sex="Q", nationality="ZZZ", first_name_ar="Mohammed", birth_date="x"))
    assert found == {"sex": "sex_code", "nationality": "country_code",
                     "first_name_ar": "arabic_script", "birth_date": "date_format"}


@pytest.mark.parametrize("field", ["first_name_ar", "father_name_ar", "family_name_ar",
                                   "national_number", "birth_date", "sex", "nationality",
                                   "issuing_state"])
def test_required_fields(field: str) -> None:
    assert errors_of(valid(**{field: ""})) == {field: "required"}


def test_grandfather_is_optional() -> None:
    assert validate_applicant(valid(grandfather_name_ar=""), today=TODAY).grandfather_name_ar == ""


@pytest.mark.parametrize("bad", ["محمد2", "Ali", "محمد!", "محمد_علي"])
def test_arabic_parts_accept_arabic_script_only(bad: str) -> None:
    assert errors_of(valid(father_name_ar=bad)) == {"father_name_ar": "arabic_script"}


def test_arabic_with_marks_and_tatweel_is_accepted_and_cleaned() -> None:
    a = validate_applicant(valid(first_name_ar="  مُحَمّـد  "), today=TODAY)
    assert a.first_name_ar == "مُحَمّد"


@pytest.mark.parametrize("bad", ["JOHN3", "JOSÉ", "ANNE--MARIE", "محمد", "A_B"])
def test_latin_names_charset(bad: str) -> None:
    assert errors_of(valid(surname_latin=bad)) == {"surname_latin": "latin_charset"}


@pytest.mark.parametrize("ok", ["O'BRIEN", "anne-marie", "DE LA CRUZ"])
def test_latin_names_allowed_punctuation(ok: str) -> None:
    assert validate_applicant(valid(surname_latin=ok), today=TODAY).surname_latin == ok.upper()


def test_national_number_format_and_check_digit() -> None:
    good = NationalNumberRule().complete("198003123")
    broken = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert errors_of(valid(national_number=broken)) == {"national_number": "check_digit"}
    assert errors_of(valid(national_number="12345")) == {"national_number": "digits"}
    assert errors_of(valid(national_number="12345abcde")) == {"national_number": "digits"}


def test_national_number_in_arabic_indic_digits_is_folded() -> None:
    good = NationalNumberRule().complete("198003123")
    arabic_digits = good.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert validate_applicant(valid(national_number=arabic_digits), today=TODAY).national_number == good


def test_national_number_rule_is_configurable_per_state() -> None:
    rules = ApplicantRules(national_number=NationalNumberRule(length=12, check="luhn"))
    number = rules.national_number.complete("12345678901")
    assert validate_applicant(valid(national_number=number), rules, today=TODAY)
    assert errors_of(valid(), rules) == {"national_number": "digits"}
    no_check = ApplicantRules(national_number=NationalNumberRule(length=10, check=None))
    assert validate_applicant(valid(national_number="1234567890"), no_check, today=TODAY)


def test_check_digit_algorithms_against_known_values() -> None:
    # Date of birth of the ICAO 9303 specimen (690806, check digit 1) and a hand-worked one.
    assert icao_check_digit("690806") == 1
    assert icao_check_digit("520727") == 3
    assert luhn_check_digit("7992739871") == 3


def test_birth_date_limits() -> None:
    assert errors_of(valid(birth_date="1880-01-01")) == {"birth_date": "max_age"}
    assert errors_of(valid(birth_date="1980-02-30")) == {"birth_date": "date_format"}
    assert validate_applicant(valid(birth_date=TODAY), today=TODAY).birth_date == TODAY


@pytest.mark.parametrize("code", ["D", "XXA", "UNO", "EGY", "GBD"])
def test_icao_country_codes_accepted(code: str) -> None:
    assert validate_applicant(valid(nationality=code), today=TODAY).nationality == code


def test_unknown_field_is_rejected() -> None:
    assert errors_of(valid(favourite_colour="blue")) == {"favourite_colour": "unknown_field"}


def test_mrz_name_override_charset() -> None:
    assert errors_of(valid(mrz_name="ABU BAKR")) == {"mrz_name": "mrz_charset"}
    ok = validate_applicant(valid(mrz_name="abu<<bakr"), today=TODAY)
    assert ok.mrz_name == "ABU<<BAKR"


@pytest.mark.parametrize(
    ("a", "b"),
    [("أحمد", "احمد"), ("إبراهيم", "ابراهيم"), ("آمنة", "امنه"), ("فاطمة", "فاطمه"),
     ("مصطفى", "مصطفي"), ("محـمد", "محمد"), ("مُحَمَّد", "محمد"), ("ٱلله", "الله"),
     ("مؤمن", "مومن"), ("هانئ", "هاني")],
)
def test_normalisation_for_matching(a: str, b: str) -> None:
    assert normalize_for_matching(a) == normalize_for_matching(b)


def test_normalisation_keeps_distinct_letters_apart() -> None:
    assert normalize_for_matching("حسن") != normalize_for_matching("حسين")


def test_is_arabic_name() -> None:
    assert is_arabic_name("عبد الله")
    assert not is_arabic_name("")
    assert not is_arabic_name("ـــ")


def test_rules_from_the_state_configuration() -> None:
    rules = rules_from_config({"national_number_length": 12, "national_number_check": "luhn",
                               "max_age_years": 120})
    assert rules.national_number == NationalNumberRule(length=12, check="luhn")
    assert rules.max_age_years == 120
    assert rules_from_config({}) == ApplicantRules()
    assert rules_from_config({"national_number_check": "none"}).national_number.check is None
    with pytest.raises(ValueError):
        rules_from_config({"national_number_check": "crc"})


def test_applicant_dataclass_round_trips() -> None:
    a = validate_applicant(valid(), today=TODAY)
    assert validate_applicant(a, today=TODAY) == a
