"""Cancelling a draft the clerk will not finish: its personal data and images are erased, audited."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from issuance import audit
from issuance.models import Applicant, Application, BiometricImage
from issuance.states import ApplicationState
from issuance.transitions import Actor, IllegalTransition, NotFound


def cancel_draft(session: Session, application_id: int, actor: Actor) -> str:
    """Delete a draft (never a submitted application) and return its number."""
    app = session.get(Application, application_id, with_for_update=True)
    if app is None:
        raise NotFound(f"application {application_id} does not exist")
    if app.state != ApplicationState.DRAFT:
        raise IllegalTransition("application", application_id, str(app.state), "cancelled")
    number = str(app.number)
    # Explicit deletes: SQLite does not cascade unless foreign keys are switched on.
    session.execute(delete(BiometricImage).where(BiometricImage.application_id == application_id))
    session.execute(delete(Applicant).where(Applicant.application_id == application_id))
    session.delete(app)
    audit.record(session, audit.Entry(
        actor=actor.name, site=actor.site, action="application.draft_cancelled",
        entity_type="application", entity_id=str(application_id), from_state="draft",
        details={"number": number},
    ))
    return number
