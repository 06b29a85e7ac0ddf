"""Checking a whole application form at once: the applicant data and what the application is for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from enrollment.application_kind import KIND_FIELDS, KindChoice, validate_kind
from enrollment.arabic import clean_arabic, is_arabic_name
from enrollment.errors import FieldError, ValidationError
from enrollment.fields import ARABIC_NAME_FIELDS, Applicant, validate_applicant
from enrollment.mrz_name import MrzName, propose_mrz_name
from enrollment.rules import ApplicantRules


@dataclass(frozen=True)
class CheckedApplication:
    applicant: Applicant
    choice: KindChoice


def check_application(raw: Mapping[str, object], rules: ApplicantRules) -> CheckedApplication:
    """Validate applicant and kind fields together; ValidationError lists every broken rule of both."""
    data = dict(raw)
    kind_raw = {f: data.pop(f) for f in KIND_FIELDS if f in data}
    errors: list[FieldError] = []
    applicant = choice = None
    try:
        applicant = validate_applicant(data, rules)
    except ValidationError as exc:
        errors += exc.errors
    try:
        choice = validate_kind(kind_raw)
    except ValidationError as exc:
        errors += exc.errors
    if errors or applicant is None or choice is None:
        raise ValidationError(errors)
    return CheckedApplication(applicant, choice)


def proposed_mrz_name(raw: Mapping[str, object]) -> MrzName | None:
    """The MRZ name proposed from whatever Arabic name parts are usable (family name last), if any."""
    parts = [clean_arabic(str(raw.get(name) or "")) for name in ARABIC_NAME_FIELDS]
    usable = [p if p and is_arabic_name(p) else "" for p in parts]
    *given, family = usable
    if not family:
        return None
    return propose_mrz_name(family, [g for g in given if g])
