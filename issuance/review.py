"""Exception review: a supervisor approves or rejects, never the clerk who enrolled (four eyes)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from issuance import audit
from issuance.models import Application, User
from issuance.roles import Permission, authorize
from issuance.sites import in_scope
from issuance.states import ApplicationState
from issuance.transitions import Actor, NotFound, move


class FourEyesViolation(PermissionError):
    """The reviewer enrolled the application themselves."""


class ReviewError(ValueError):
    """A review decision is incomplete."""


def _reviewable(session: Session, application_id: int, reviewer: User, reason: str) -> Application:
    """The application, once the reviewer's role, reason and independence are checked."""
    authorize(reviewer, Permission.RESOLVE_EXCEPTIONS)
    if not reason.strip():
        raise ReviewError("reason: a supervisor's decision must say why")
    application = session.get(Application, application_id)
    # Another site's application is reported as missing: a supervisor works at one site.
    if application is None or not in_scope(reviewer, application.site):
        raise NotFound(f"application {application_id} does not exist")
    if application.clerk_id == reviewer.id:
        raise FourEyesViolation(
            f"application {application.number}: {reviewer.username} enrolled it and cannot also "
            "review it; another supervisor must"
        )
    return application


def resolve_exception(
    session: Session, application_id: int, reviewer: User, *, approve: bool, reason: str
) -> bool:
    """Approve or reject an application held in `exception`, with the reviewer's reason."""
    _reviewable(session, application_id, reviewer, reason)
    target = ApplicationState.APPROVED if approve else ApplicationState.REJECTED
    return move(
        session, Application, application_id, target, Actor(reviewer.username, reviewer.site),
        expected=ApplicationState.EXCEPTION,
        details={"reason": reason.strip(), "decided_by": reviewer.username},
    )


def override_photo(session: Session, application_id: int, reviewer: User, reason: str) -> None:
    """Accept a photo that failed quality (e.g. a medical condition), recorded and audited."""
    application = _reviewable(session, application_id, reviewer, reason)
    application.photo_override_by = reviewer.id
    audit.record(session, audit.Entry(
        actor=reviewer.username, site=reviewer.site, action="application.photo_override",
        entity_type="application", entity_id=str(application_id), details={"reason": reason.strip()},
    ))
