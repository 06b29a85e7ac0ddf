"""Validation checks for one application against the civil registry: pure logic, no I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from enum import StrEnum

from enrollment.arabic import normalize_for_matching
from issuance.models import ApplicationKind
from issuance.registry.record import CitizenRecord
from issuance.states import ApplicationState


class Severity(StrEnum):
    REJECT = "reject"
    EXCEPTION = "exception"


@dataclass(frozen=True)
class Reason:
    """Why an application was not simply approved: a stable code and a sentence for people."""

    code: str
    message: str
    severity: Severity
    # The other application a FACE_DUPLICATE found, so a supervisor sees both photos side by side.
    other_application: int | None = None

    def as_dict(self) -> dict[str, str | int]:
        kept: dict[str, str | int] = {"code": self.code, "message": self.message,
                                      "severity": str(self.severity)}
        if self.other_application is not None:
            kept["other_application"] = self.other_application
        return kept


@dataclass(frozen=True)
class Facts:
    """What the system itself knows about one application when it is validated."""

    application_id: int
    national_number: str
    names_ar: tuple[str, str, str, str]
    sex: str
    birth_date: dt.date
    kind: ApplicationKind = ApplicationKind.FIRST_ISSUE
    replaces_document_number: str | None = None
    photo_passed: bool | None = None
    photo_overridden: bool = False
    earlier_in_flight: tuple[str, ...] = ()
    own_active_cards: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    min_age_years: int = 16
    name_match_threshold: float = 0.85


@dataclass(frozen=True)
class Decision:
    outcome: ApplicationState
    reasons: list[Reason] = field(default_factory=list)


def _reject(code: str, message: str) -> Reason:
    return Reason(code, message, Severity.REJECT)


def _exception(code: str, message: str) -> Reason:
    return Reason(code, message, Severity.EXCEPTION)


def name_score(enrolled: tuple[str, ...], registered: tuple[str, ...]) -> float:
    """Similarity of the full Arabic names after normalisation, 1.0 for an exact match."""
    a = " ".join(normalize_for_matching(p) for p in enrolled)
    b = " ".join(normalize_for_matching(p) for p in registered)
    return 1.0 if a == b else SequenceMatcher(None, a, b).ratio()


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def check_identity(f: Facts, r: CitizenRecord, policy: Policy) -> list[Reason]:
    """Names, birth date and sex against the registry."""
    reasons = []
    registered = (r.first_name_ar, r.father_name_ar, r.grandfather_name_ar, r.family_name_ar)
    score = name_score(f.names_ar, registered)
    if score < policy.name_match_threshold:
        reasons.append(_reject("NAME_MISMATCH", f"names differ from the registry (score {score:.2f})"))
    elif score < 1.0:
        reasons.append(_exception("NAME_FUZZY", f"names close to the registry, not exact "
                                                f"(score {score:.2f}): check the documents"))
    if f.birth_date != r.birth_date:
        reasons.append(_reject("BIRTH_DATE_MISMATCH",
                               f"birth date {f.birth_date} but the registry has {r.birth_date}"))
    if f.sex != r.sex:
        reasons.append(_reject("SEX_MISMATCH", f"sex {f.sex} but the registry has {r.sex}"))
    return reasons


def check_eligibility(f: Facts, r: CitizenRecord, policy: Policy, today: dt.date) -> list[Reason]:
    """Alive, old enough, and no card or application that this one would duplicate."""
    reasons = []
    if r.death_date is not None:
        reasons.append(_reject("DECEASED", f"the registry records a death on {r.death_date}"))
    age = _age(r.birth_date, today)
    if age < policy.min_age_years:
        reasons.append(_reject("UNDER_AGE", f"age {age}, the minimum is {policy.min_age_years}"))
    reasons += _check_cards(f, r)
    if f.earlier_in_flight:
        reasons.append(_reject("DUPLICATE_IN_FLIGHT", "another application is in progress: "
                                                      + ", ".join(f.earlier_in_flight)))
    return reasons


def _check_cards(f: Facts, r: CitizenRecord) -> list[Reason]:
    active = sorted({*f.own_active_cards, *([r.active_card] if r.active_card else [])})
    if f.kind == ApplicationKind.FIRST_ISSUE:
        if active:
            return [_reject("CARD_ACTIVE", f"the citizen already holds active card {', '.join(active)}; "
                                           "apply for a renewal or replacement")]
        return []
    if not f.replaces_document_number:
        return [_reject("OLD_CARD_NOT_NAMED", f"a {f.kind} must name the card it replaces")]
    if f.replaces_document_number not in active:
        held = ", ".join(active) or "none"
        return [_reject("OLD_CARD_UNKNOWN", f"card {f.replaces_document_number} is not an active "
                                            f"card of this citizen (active: {held})")]
    return []


def check_photo(f: Facts) -> list[Reason]:
    """A photo that passed quality, or a supervisor's override."""
    if f.photo_passed or f.photo_overridden:
        return []
    if f.photo_passed is None:
        return [_exception("PHOTO_MISSING", "no face photo was captured")]
    return [_exception("PHOTO_QUALITY", "the photo failed quality checks and has no override")]


def registry_error(attempts: int, error: str) -> Decision:
    """The registry kept failing on this application: a person must look (DESIGN §7)."""
    return Decision(ApplicationState.EXCEPTION, [_exception(
        "REGISTRY_ERROR", f"the civil registry failed {attempts} times on this record: {error}")])


def decide(f: Facts, r: CitizenRecord | None, policy: Policy, today: dt.date) -> Decision:
    """Run every check; any reject-level reason rejects, else any exception-level one holds it."""
    if r is None:
        reason = _reject("CITIZEN_NOT_FOUND", f"national number {f.national_number} is not registered")
        return Decision(ApplicationState.REJECTED, [reason])
    reasons = check_identity(f, r, policy) + check_eligibility(f, r, policy, today) + check_photo(f)
    if any(x.severity == Severity.REJECT for x in reasons):
        return Decision(ApplicationState.REJECTED, reasons)
    if reasons:
        return Decision(ApplicationState.EXCEPTION, reasons)
    return Decision(ApplicationState.APPROVED)
