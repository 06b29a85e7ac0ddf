"""Exception review: a supervisor approves or rejects, never the clerk who enrolled (four eyes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from issuance import audit
from issuance.models import Application, BiometricImage, BiometricKind, User, utcnow
from issuance.roles import Permission, authorize
from issuance.sites import in_scope, scoped
from issuance.states import ApplicationState
from issuance.successors import revoke_reported_losses
from issuance.transitions import Actor, NotFound, move


class FourEyesViolation(PermissionError):
    """The reviewer enrolled the application themselves."""


class ReviewError(ValueError):
    """A review decision is incomplete."""


MAX_REASON = 500


def check_reason(reason: str) -> str:
    """A decision's reason as kept: trimmed, 1-500 characters, no control characters but line breaks."""
    text = reason.strip()
    if not text:
        raise ReviewError("reason: a supervisor's decision must say why")
    if len(text) > MAX_REASON or any((ord(c) < 32 and c not in "\r\n\t") or ord(c) == 127 for c in text):
        raise ReviewError(f"reason: at most {MAX_REASON} characters, no control characters")
    return text


def _reviewable(session: Session, application_id: int, reviewer: User, reason: str) -> Application:
    """The application, once the reviewer's role, reason and independence are checked."""
    authorize(reviewer, Permission.RESOLVE_EXCEPTIONS)
    check_reason(reason)
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
    actor = Actor(reviewer.username, reviewer.site)
    moved = move(session, Application, application_id, target, actor, expected=ApplicationState.EXCEPTION,
                 details={"reason": reason.strip(), "decided_by": reviewer.username})
    if moved and approve:
        revoke_reported_losses(session, [application_id], actor)
    return moved


class OverrideRefused(ValueError):
    """There is no failed photo waiting on a supervisor's override."""


def override_photo(session: Session, application_id: int, reviewer: User, reason: str) -> BiometricImage:
    """Accept this draft's failed photo (e.g. a medical condition): that exact image, audited.

    The override names the image row and its keyed digest; any new upload voids it.
    """
    application = _reviewable(session, application_id, reviewer, reason)
    if application.state != ApplicationState.DRAFT:
        raise OverrideRefused(f"application {application.number} is {application.state}: only a draft's "
                              "photo waits on an override")
    photo = session.scalars(select(BiometricImage).where(
        BiometricImage.application_id == application_id, BiometricImage.kind == BiometricKind.PHOTO)).first()
    if photo is None:
        raise OverrideRefused(f"application {application.number} has no photo to accept yet")
    if photo.quality_passed:
        raise OverrideRefused(f"application {application.number}: the photo passed; nothing to override")
    application.photo_override_by = reviewer.id
    application.photo_override_image_id, application.photo_override_digest = photo.id, photo.digest
    audit.record(session, audit.Entry(
        actor=reviewer.username, site=reviewer.site, action="application.photo_override",
        entity_type="application", entity_id=str(application_id),
        details={"reason": reason.strip(), "image_id": photo.id, "digest": photo.digest},
    ))
    return photo


def override_covers(application: Application, image_id: int | None, digest: str | None) -> bool:
    """True when a supervisor's override accepted exactly this stored photo."""
    return (application.photo_override_by is not None and image_id is not None
            and application.photo_override_image_id == image_id
            and bool(digest) and application.photo_override_digest == digest)


@dataclass(frozen=True)
class QueueFilter:
    """What the exceptions queue shows: one reason code, one site (for those who see every site), age."""

    reason: str = ""
    site: str = ""
    older_than_days: int = 0


def reason_codes(application: Application) -> list[str]:
    """The codes of the reasons that held the application."""
    return [str(r.get("code", "")) for r in application.outcome_reasons or [] if isinstance(r, dict)]


def held_exceptions(session: Session, user: User, wanted: QueueFilter = QueueFilter(),
                    now: dt.datetime | None = None, limit: int = 500) -> Sequence[Application]:
    """Applications in `exception` the user may decide, oldest first, filtered as asked.

    The age is the time since the application entered `exception` (its last state change).
    """
    stmt = (scoped(select(Application), user, Application.site)
            .where(Application.state == ApplicationState.EXCEPTION)
            .options(selectinload(Application.applicant), selectinload(Application.clerk))
            .order_by(Application.updated_at, Application.id))
    if wanted.site:
        stmt = stmt.where(Application.site == wanted.site)
    if wanted.older_than_days:
        since = (now or utcnow()) - dt.timedelta(days=wanted.older_than_days)
        stmt = stmt.where(Application.updated_at <= since)
    held = session.scalars(stmt).all()
    # Reasons are a JSON list: filtered here, the same way on SQLite and PostgreSQL.
    chosen = [a for a in held if not wanted.reason or wanted.reason in reason_codes(a)]
    return chosen[:limit]
