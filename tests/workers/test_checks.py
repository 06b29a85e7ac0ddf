"""Each validation check on its own: code, severity and outcome."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from issuance.registry.record import CitizenRecord
from workers.checks import Facts, Policy, decide, name_score

TODAY = dt.date(2026, 11, 28)
RECORD = CitizenRecord(
    national_number="1000000013", first_name_ar="محمد", father_name_ar="أحمد",
    grandfather_name_ar="علي", family_name_ar="الخطيب", given_names_latin="Mohammed Ahmad",
    surname_latin="Al-Khatib", sex="M", birth_date=dt.date(1990, 5, 17), birth_place="Amman",
    address="12 University Street, Amman", nationality="UTO",
)
FACTS = Facts(application_id=1, national_number="1000000013",
              names_ar=("محمد", "أحمد", "علي", "الخطيب"), sex="M",
              birth_date=dt.date(1990, 5, 17), photo_passed=True)


def _codes(
    facts: Facts = FACTS, record: CitizenRecord | None = RECORD, **policy: object
) -> tuple[str, list[str]]:
    d = decide(facts, record, Policy(**policy), TODAY)  # type: ignore[arg-type]
    return str(d.outcome), [r.code for r in d.reasons]


def test_clean_application_is_approved() -> None:
    assert _codes() == ("approved", [])


def test_hamza_and_teh_marbuta_variants_still_match_exactly() -> None:
    variant = dataclasses.replace(FACTS, names_ar=("محمد", "احمد", "علي", "الخطيب"))
    assert name_score(variant.names_ar, FACTS.names_ar) == 1.0
    assert _codes(variant) == ("approved", [])


@pytest.mark.parametrize(
    ("change", "record_change", "expected"),
    [
        ({}, None, ("rejected", ["CITIZEN_NOT_FOUND"])),
        ({"sex": "F"}, {}, ("rejected", ["SEX_MISMATCH"])),
        ({"birth_date": dt.date(1990, 5, 18)}, {}, ("rejected", ["BIRTH_DATE_MISMATCH"])),
        ({}, {"death_date": dt.date(2024, 1, 1)}, ("rejected", ["DECEASED"])),
        ({}, {"birth_date": dt.date(2012, 1, 1)}, ("rejected", ["BIRTH_DATE_MISMATCH", "UNDER_AGE"])),
        ({"photo_passed": False}, {}, ("exception", ["PHOTO_QUALITY"])),
        ({"photo_passed": False, "photo_overridden": True}, {}, ("approved", [])),
        ({"names_ar": ("محمد", "أحمد", "علي", "الخطيبي")}, {}, ("exception", ["NAME_FUZZY"])),
        ({"names_ar": ("سارة", "خالد", "عمر", "حداد")}, {}, ("rejected", ["NAME_MISMATCH"])),
        ({"earlier_in_flight": ("HQ-000000001-8",)}, {}, ("rejected", ["DUPLICATE_IN_FLIGHT"])),
        ({"own_active_cards": ("D1234567",)}, {}, ("rejected", ["CARD_ACTIVE"])),
        ({"kind": "renewal"}, {"active_card": "C1"}, ("rejected", ["OLD_CARD_NOT_NAMED"])),
        ({"kind": "renewal", "replaces_document_number": "C1"}, {"active_card": "C1"}, ("approved", [])),
    ],
)
def test_each_check(change: dict[str, object], record_change: dict[str, object] | None,
                    expected: tuple[str, list[str]]) -> None:
    facts = dataclasses.replace(FACTS, **change)  # type: ignore[arg-type]
    record = None if record_change is None else dataclasses.replace(RECORD, **record_change)  # type: ignore[arg-type]
    assert _codes(facts, record) == expected


def test_minimum_age_is_configurable() -> None:
    young = dataclasses.replace(FACTS, birth_date=dt.date(2009, 1, 1))
    record = dataclasses.replace(RECORD, birth_date=dt.date(2009, 1, 1))
    assert _codes(young, record) == ("approved", [])
    assert _codes(young, record, min_age_years=18) == ("rejected", ["UNDER_AGE"])
