"""What an application is for: a first card, a renewal, or a replacement of a lost, stolen or
damaged one; the last two must name the card they replace (DESIGN §3)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from enrollment.errors import FieldError, ValidationError
from enrollment.messages import message
from issuance.models import ApplicationKind, ReplacementReason

KIND_FIELDS = ("kind", "replacement_reason", "replaces_card")
_DOCUMENT_NUMBER = re.compile(r"^[A-Z0-9]{1,20}$")


@dataclass(frozen=True)
class KindChoice:
    kind: ApplicationKind = ApplicationKind.FIRST_ISSUE
    replacement_reason: ReplacementReason | None = None
    replaces_document_number: str | None = None


def _error(field: str, rule: str, **params: object) -> FieldError:
    return FieldError(field, rule, *message(rule, **params))


def _kind(raw: str, errors: list[FieldError]) -> ApplicationKind | None:
    try:
        return ApplicationKind(raw or "first_issue")
    except ValueError:
        errors.append(_error("kind", "application_kind"))
        return None


def _reason(raw: str, kind: ApplicationKind, errors: list[FieldError]) -> ReplacementReason | None:
    if kind != ApplicationKind.REPLACEMENT:
        if raw:
            errors.append(_error("replacement_reason", "only_for_replacement"))
        return None
    try:
        return ReplacementReason(raw)
    except ValueError:
        errors.append(_error("replacement_reason", "replacement_reason" if raw else "required"))
        return None


def _old_card(raw: str, kind: ApplicationKind, errors: list[FieldError]) -> str | None:
    number = raw.strip().upper().replace(" ", "")
    if kind == ApplicationKind.FIRST_ISSUE:
        if number:
            errors.append(_error("replaces_card", "only_for_renewal"))
        return None
    if not number:
        errors.append(_error("replaces_card", "old_card_needed"))
    elif not _DOCUMENT_NUMBER.match(number):
        errors.append(_error("replaces_card", "document_number"))
    return number or None


def validate_kind(raw: Mapping[str, object]) -> KindChoice:
    """The application kind and what it replaces, or ValidationError naming every broken rule."""
    errors: list[FieldError] = []
    kind = _kind(str(raw.get("kind") or ""), errors)
    if kind is None:  # what else is required depends on the kind: nothing more to say
        raise ValidationError(errors)
    reason = _reason(str(raw.get("replacement_reason") or ""), kind, errors)
    old = _old_card(str(raw.get("replaces_card") or ""), kind, errors)
    if errors:
        raise ValidationError(errors)
    return KindChoice(kind, reason, old)
