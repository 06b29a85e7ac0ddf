"""Opening and submitting applications: the core side of enrollment."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from issuance.models import Applicant, Application, ApplicationKind, User, utcnow
from issuance.person import Person
from issuance.states import ApplicationState
from issuance.transitions import Actor, create_application, move


def open_application(
    session: Session,
    person: Person,
    clerk: User,
    *,
    mrz_name: str = "",
    site: str | None = None,
    kind: ApplicationKind = ApplicationKind.FIRST_ISSUE,
    **extra: Any,
) -> Application:
    """A new draft application holding the (already validated) person and reviewed MRZ name."""
    site = site or clerk.site
    application = Application(clerk_id=clerk.id, site=site, kind=kind, **extra)
    application.applicant = Applicant.of(person, mrz_name)
    return create_application(session, application, Actor(clerk.username, site))


def submit(session: Session, application_id: int, actor: Actor) -> bool:
    """Move a draft to `submitted`; the caller enqueues validation after commit."""
    return move(
        session, Application, application_id, ApplicationState.SUBMITTED, actor,
        expected=ApplicationState.DRAFT, values={"submitted_at": utcnow()},
    )
