"""Applicant data: the fields captured at the counter and their validation."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from enrollment.arabic import clean_arabic, is_arabic_name
from enrollment.country_codes import is_country_code
from enrollment.errors import FieldError, ValidationError
from enrollment.messages import message
from enrollment.mrz_name import TD1_NAME_LENGTH
from enrollment.rules import DEFAULT_RULES, ApplicantRules
from enrollment.transliteration import is_mrz_charset, untransliterable
from issuance.person import Person

ARABIC_NAME_FIELDS = ("first_name_ar", "father_name_ar", "grandfather_name_ar", "family_name_ar")
LATIN_NAME_FIELDS = ("given_names_latin", "surname_latin")
_LATIN_NAME = re.compile(r"^[A-Z]+(?:[ '\-][A-Z]+)*$")
# C0 controls (tab, newline, return aside), DEL, lone surrogates and bidi overrides: PostgreSQL
# refuses NUL, SQLite would store it, and overrides can make a printed name read differently.
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_DIGIT_FOLD = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)


@dataclass(frozen=True)
class Applicant(Person):
    """Normalised applicant data: the person, the state issuing the card, and the reviewed MRZ
    name (blank: not reviewed yet). Only `validate_applicant` should build one from raw input."""

    issuing_state: str = ""
    mrz_name: str = ""


FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Applicant))


class _Collector:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, rule: str, **params: object) -> None:
        en, ar = message(rule, **params)
        self.errors.append(FieldError(field, rule, en, ar))


def _text(raw: Mapping[str, object], name: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value).strip()


def _without_forbidden_characters(raw: Mapping[str, object], errs: _Collector) -> dict[str, object]:
    """Report control characters per field, then check the rest of the value as if they were gone."""
    clean: dict[str, object] = {}
    for name, value in raw.items():
        if isinstance(value, str) and _FORBIDDEN_CHARS.search(value):
            errs.add(name, "control_characters")
            value = _FORBIDDEN_CHARS.sub("", value)
        clean[name] = value
    return clean


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
    except ValueError:
        return None


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def validate_applicant(
    data: Mapping[str, object] | Applicant,
    rules: ApplicantRules = DEFAULT_RULES,
    today: date | None = None,
) -> Applicant:
    """Check every field and return normalised data, or raise ValidationError listing all errors."""
    raw: Mapping[str, object] = dataclasses.asdict(data) if isinstance(data, Applicant) else data
    today = today or date.today()
    errs = _Collector()
    raw = _without_forbidden_characters(raw, errs)
    for unknown in sorted(set(raw) - set(FIELD_NAMES)):
        errs.add(unknown, "unknown_field")
    out: dict[str, object] = {}

    for name in ARABIC_NAME_FIELDS:
        value = clean_arabic(_text(raw, name))
        if not value:
            if name in rules.required_arabic_parts:
                errs.add(name, "required")
        elif not is_arabic_name(value):
            errs.add(name, "arabic_script")
        elif (letter := untransliterable(value)) is not None:
            errs.add(name, "icao_transliteration", letter=letter)
        elif len(value) > rules.max_name_length:
            errs.add(name, "max_length", limit=rules.max_name_length)
        out[name] = value

    for name in LATIN_NAME_FIELDS:
        value = " ".join(_text(raw, name).upper().split())
        if value and not _LATIN_NAME.match(value):
            errs.add(name, "latin_charset")
        elif len(value) > rules.max_name_length:
            errs.add(name, "max_length", limit=rules.max_name_length)
        out[name] = value

    mrz = _text(raw, "mrz_name").upper()
    if mrz and not is_mrz_charset(mrz):
        errs.add("mrz_name", "mrz_charset")
    elif len(mrz) > TD1_NAME_LENGTH:
        errs.add("mrz_name", "max_length", limit=TD1_NAME_LENGTH)
    out["mrz_name"] = mrz

    nn_rule = rules.national_number
    number = _text(raw, "national_number").translate(_DIGIT_FOLD).replace(" ", "")
    if not number:
        errs.add("national_number", "required")
    elif not (number.isascii() and number.isdigit() and len(number) == nn_rule.length):
        errs.add("national_number", "digits", length=nn_rule.length)
    elif not nn_rule.check_ok(number):
        errs.add("national_number", "check_digit")
    out["national_number"] = number

    birth_text = _text(raw, "birth_date")
    birth = _parse_date(birth_text)
    if not birth_text:
        errs.add("birth_date", "required")
    elif birth is None:
        errs.add("birth_date", "date_format")
    elif birth > today:
        errs.add("birth_date", "not_future")
    elif birth < _years_before(today, rules.max_age_years):
        errs.add("birth_date", "max_age", years=rules.max_age_years)
    out["birth_date"] = birth

    sex = _text(raw, "sex").upper()
    if not sex:
        errs.add("sex", "required")
    elif sex not in ("M", "F", "X"):
        errs.add("sex", "sex_code")
    out["sex"] = sex

    for name in ("nationality", "issuing_state"):
        code = _text(raw, name).upper()
        if not code:
            errs.add(name, "required")
        elif not is_country_code(code):
            errs.add(name, "country_code")
        out[name] = code

    for name in ("birth_place", "address"):
        value = " ".join(_text(raw, name).split())
        if len(value) > 200:
            errs.add(name, "max_length", limit=200)
        out[name] = value

    if errs.errors:
        raise ValidationError(errs.errors)
    return Applicant(**out)  # type: ignore[arg-type]
