"""Configurable per-state rules: national number format and check digit, age limits."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from issuance.numbers import check_digit


def icao_check_digit(digits: str) -> int:
    """Check digit with weights 7, 3, 1 modulo 10 (ICAO 9303-3 §4.9), digits only."""
    return int(check_digit(digits))


def luhn_check_digit(digits: str) -> int:
    """Luhn (ISO/IEC 7812-1 Annex B) check digit for the given payload digits."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return (10 - total % 10) % 10


CHECK_ALGORITHMS: dict[str, Callable[[str], int]] = {
    "icao-731": icao_check_digit,
    "luhn": luhn_check_digit,
}


@dataclass(frozen=True)
class NationalNumberRule:
    """Shape of the national number: digit count and the algorithm of its last digit (or none)."""

    length: int = 10
    check: str | None = "icao-731"

    def check_ok(self, number: str) -> bool:
        """True if the last digit is the check digit of the others (or no check is configured)."""
        if self.check is None:
            return True
        return CHECK_ALGORITHMS[self.check](number[:-1]) == int(number[-1])

    def complete(self, payload: str) -> str:
        """Append the check digit to a payload of length - 1 digits (for samples and tests)."""
        if self.check is None:
            return payload
        return payload + str(CHECK_ALGORITHMS[self.check](payload))


@dataclass(frozen=True)
class ApplicantRules:
    """All knobs of applicant validation an issuing state may change."""

    national_number: NationalNumberRule = NationalNumberRule()
    max_age_years: int = 130
    max_name_length: int = 60
    # Components beyond the given name a state requires in Arabic (first is always required).
    required_arabic_parts: tuple[str, ...] = ("first_name_ar", "father_name_ar", "family_name_ar")


DEFAULT_RULES = ApplicantRules()


def rules_from_config(extra: Mapping[str, Any]) -> ApplicantRules:
    """Rules from the issuing state's configuration (the `issuance` TOML table's extra keys).

    Keys: national_number_length (int), national_number_check ("icao-731", "luhn" or
    "none"), max_age_years (int). Absent keys keep the defaults.
    """
    check = str(extra.get("national_number_check", DEFAULT_RULES.national_number.check))
    if check not in (*CHECK_ALGORITHMS, "none"):
        raise ValueError(f"national_number_check: must be one of {sorted(CHECK_ALGORITHMS)} or none")
    number = NationalNumberRule(
        length=int(extra.get("national_number_length", DEFAULT_RULES.national_number.length)),
        check=None if check == "none" else check,
    )
    return ApplicantRules(
        national_number=number,
        max_age_years=int(extra.get("max_age_years", DEFAULT_RULES.max_age_years)),
    )
