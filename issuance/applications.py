"""Opening and submitting applications: the core side of enrollment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from issuance.models import Applicant, Application, ApplicationKind, User, utcnow
from issuance.states import ApplicationState
from issuance.transitions import Actor, create_application, move

APPLICANT_FIELDS = (
    "national_number", "first_name_ar", "father_name_ar", "grandfather_name_ar",
    "family_name_ar", "given_names_latin", "surname_latin", "sex", "birth_date",
    "birth_place", "address", "nationality",
)


def open_application(
    session: Session,
    applicant: Mapping[str, Any],
    clerk: User,
    *,
    site: str | None = None,
    kind: ApplicationKind = ApplicationKind.FIRST_ISSUE,
    **extra: Any,
) -> Application:
    """A new draft application holding the (already validated) applicant data."""
    missing = [f for f in APPLICANT_FIELDS if f not in applicant]
    if missing:
        raise ValueError(f"applicant: missing fields {', '.join(missing)}")
    site = site or clerk.site
    application = Application(clerk_id=clerk.id, site=site, kind=kind, **extra)
    application.applicant = Applicant(**{f: applicant[f] for f in APPLICANT_FIELDS})
    return create_application(session, application, Actor(clerk.username, site))


def submit(session: Session, application_id: int, actor: Actor) -> bool:
    """Move a draft to `submitted`; the caller enqueues validation after commit."""
    return move(
        session, Application, application_id, ApplicationState.SUBMITTED, actor,
        expected=ApplicationState.DRAFT, values={"submitted_at": utcnow()},
    )
