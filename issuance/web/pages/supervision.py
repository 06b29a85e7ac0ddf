"""The supervisor's exceptions queue: reasons, registry record beside the application, photos, decisions.

A bulk decision is one transaction per application: each is decided (or refused: four eyes,
already decided, outside the site) on its own, and the page lists which were refused and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from enrollment.field_labels import label
from issuance.biometrics import load_biometric
from issuance.models import Application, BiometricImage, BiometricKind, User
from issuance.person import Person
from issuance.registry.client import RegistryError
from issuance.registry.compare import compare
from issuance.registry.record import CitizenRecord
from issuance.review import (
    FourEyesViolation,
    QueueFilter,
    ReviewError,
    check_reason,
    held_exceptions,
    reason_codes,
    resolve_exception,
)
from issuance.roles import Permission
from issuance.sites import in_scope, sees_all_sites, site_codes
from issuance.states import ApplicationState
from issuance.transitions import NotFound
from issuance.web.deps import committing
from issuance.web.inputs import Id
from issuance.web.pages.deps import Db, PageRefused, Rt, Visit, page_guard, render, see_other

router = APIRouter(prefix="/supervisor", include_in_schema=False)
Reviewer = Annotated[Visit, Depends(page_guard(Permission.RESOLVE_EXCEPTIONS))]
AGES = (0, 1, 3, 7, 30)
MAX_BULK = 200
DECISIONS = {"approve": True, "reject": False}
_CODE = re.compile(r"[A-Z_]{0,40}")
_SITE = re.compile(r"[A-Za-z0-9-]{0,32}")
_NUMBER = re.compile(r"[A-Za-z0-9-]{0,40}")
_OTHER = re.compile(r"application (\d+)")
FACE_CODES = ("FACE_DUPLICATE", "FACE_MISMATCH")


def _filter(v: Visit, reason: str, site: str, older_than: str) -> tuple[QueueFilter, str]:
    """The queue filter from the query string, or the default and an error naming the field."""
    if not _CODE.fullmatch(reason):
        return QueueFilter(), "reason: a reason code (capital letters and '_')"
    if not _SITE.fullmatch(site) or (site and not sees_all_sites(v.user)):
        return QueueFilter(), "site: a site code; only a user who sees every site chooses one"
    if older_than not in {"", *map(str, AGES)}:
        return QueueFilter(), f"older_than: one of {', '.join(map(str, AGES))} days"
    return QueueFilter(reason, site, int(older_than or 0)), ""


@dataclass
class BulkOutcome:
    """What a bulk decision did: the numbers decided, and each refusal with its reason."""

    decided: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def _queue(request: Request, v: Visit, session: Session, wanted: QueueFilter, status: int = 200,
           error: str = "", outcome: BulkOutcome | None = None, decided: str = "") -> Response:
    rows = held_exceptions(session, v.user, wanted)
    everything = held_exceptions(session, v.user)
    codes = sorted({c for a in everything for c in reason_codes(a)} | ({wanted.reason} - {""}))
    return render(request, "supervisor/exceptions.html", v.words, status=status, visit=v, rows=rows,
                  codes=codes, ages=AGES, wanted=wanted, error=error, outcome=outcome, decided=decided,
                  sites=site_codes(session) if sees_all_sites(v.user) else [])


@router.get("/exceptions")
def exceptions(request: Request, v: Reviewer, session: Db, reason: str = "", site: str = "",
               older_than: str = "", decided: str = "") -> Response:
    """Applications held in `exception`, oldest first, with their reasons; filtered by code, site, age."""
    wanted, error = _filter(v, reason, site, older_than)
    return _queue(request, v, session, wanted, 422 if error else 200, error,
                  decided=decided if _NUMBER.fullmatch(decided) else "")


def _ids(raw: list[str]) -> list[int]:
    """The selected application ids; ReviewError naming the field when any is not one."""
    if not raw:
        raise ReviewError("ids: select at least one application")
    if len(raw) > MAX_BULK:
        raise ReviewError(f"ids: at most {MAX_BULK} applications in one decision")
    if not all(r.isascii() and r.isdigit() and 0 < int(r) < 2**31 for r in raw):
        raise ReviewError("ids: each must be an application id (a whole number)")
    return sorted({int(r) for r in raw})


def _decision(decision: str) -> bool:
    if decision not in DECISIONS:
        raise ReviewError("decision: approve or reject")
    return DECISIONS[decision]


def _decide_one(session: Session, user: User, application_id: int, approve: bool, reason: str) -> str:
    """Decide one application in its own transaction; '' when done, else why it was refused."""
    try:
        with committing(session):
            if not resolve_exception(session, application_id, user, approve=approve, reason=reason):
                return "no longer in exception"
    except (FourEyesViolation, NotFound) as exc:
        return str(exc)
    return ""


def _number(session: Session, application_id: int, user: User) -> str:
    app = session.get(Application, application_id)
    return str(app.number) if app is not None and in_scope(user, app.site) else str(application_id)


@router.post("/exceptions/bulk")
async def bulk(request: Request, v: Reviewer, session: Db, decision: Annotated[str, Form()] = "",
               reason: Annotated[str, Form()] = "") -> Response:
    """One decision and reason for many applications, each in its own transaction; refusals listed."""
    form = await request.form()
    try:
        approve, ids = _decision(decision), _ids([str(i) for i in form.getlist("ids")])
        check_reason(reason)
        outcome = BulkOutcome()
        for application_id in ids:
            why = _decide_one(session, v.user, application_id, approve, reason)
            number = _number(session, application_id, v.user)
            if why:
                outcome.refused.append((number, why))
            else:
                outcome.decided.append(number)
    except ReviewError as exc:
        return _queue(request, v, session, QueueFilter(), 422, str(exc))
    return _queue(request, v, session, QueueFilter(), 409 if not outcome.decided else 200, outcome=outcome)


def _held(session: Session, v: Visit, application_id: int) -> Application:
    """The application in `exception` at the user's site, or a 404 page."""
    app = session.get(Application, application_id)
    if app is None or not in_scope(v.user, app.site) or app.state != ApplicationState.EXCEPTION:
        raise PageRefused(404, f"application {application_id} is not waiting in exception", "not_found")
    return app


def _registry(rt: Rt, person: Person) -> tuple[CitizenRecord | None, str]:
    """The registry's record now (one attempt), or the error that kept it away."""
    try:
        return rt.registry.lookup_many([person.national_number], retry=False)[person.national_number], ""
    except RegistryError as exc:
        return None, str(exc)


def other_applications(app: Application) -> list[int]:
    """The applications a FACE_DUPLICATE reason names (the structured id, else the one in its text)."""
    found = []
    for r in app.outcome_reasons or []:
        if isinstance(r, dict) and r.get("code") == "FACE_DUPLICATE":
            details = r.get("details")
            details = details if isinstance(details, dict) else {}
            in_text = next(iter(_OTHER.findall(str(r.get("message", "")))), None)
            named = details.get("application_id") or in_text
            if named is not None and str(named).isdigit():
                found.append(int(named))
    return sorted(set(found))


def _photo_row(session: Session, application_id: int) -> BiometricImage | None:
    return next((b for b in session.get_one(Application, application_id).biometrics
                 if b.kind == BiometricKind.PHOTO), None)


def _detail(request: Request, v: Visit, session: Session, rt: Rt, app: Application, status: int = 200,
            error: str = "", refusal: str = "") -> Response:
    record, registry_error = _registry(rt, app.applicant.person)
    language = v.words.language
    rows = [(label(c.field, language), c) for c in compare(app.applicant.person, record)]
    others: list[dict[str, Any]] = []
    for other_id in other_applications(app):
        other = session.get(Application, other_id)
        visible = other is not None and in_scope(v.user, other.site)
        others.append({"id": other_id, "number": other.number if visible and other else str(other_id),
                       "visible": visible})
    codes = reason_codes(app)
    return render(request, "supervisor/exception.html", v.words, status=status, visit=v, app=app,
                  rows=rows, record=record, registry_error=registry_error, photo=_photo_row(session, app.id),
                  others=others, mismatch="FACE_MISMATCH" in codes,
                  faces=any(c in FACE_CODES for c in codes), own=app.clerk_id == v.user.id,
                  error=error, refusal=refusal, check_names=v.words.check_names())


@router.get("/exceptions/{application_id}")
def exception_detail(request: Request, application_id: Id, v: Reviewer, session: Db, rt: Rt) -> Response:
    """One exception: its reasons, the registry record beside the data, the photos and the decision form."""
    return _detail(request, v, session, rt, _held(session, v, application_id))


@router.post("/exceptions/{application_id}/decision")
def decide(request: Request, application_id: Id, v: Reviewer, session: Db, rt: Rt,
           decision: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "") -> Response:
    """Approve or reject with a reason; the enrolling clerk is refused (four eyes), clearly."""
    app = _held(session, v, application_id)
    try:
        approve = _decision(decision)
        with committing(session):
            moved = resolve_exception(session, application_id, v.user, approve=approve, reason=reason)
    except FourEyesViolation as exc:
        return _detail(request, v, session, rt, _held(session, v, application_id), 409, refusal=str(exc))
    except ReviewError as exc:
        return _detail(request, v, session, rt, _held(session, v, application_id), 422, error=str(exc))
    if not moved:
        raise PageRefused(409, f"application {app.number} is no longer in exception", "refused")
    return see_other(f"/supervisor/exceptions?decided={app.number}")


def _jpeg(session: Session, rt: Rt, application_id: int) -> Response:
    data = load_biometric(session, rt.vault, application_id, BiometricKind.PHOTO)
    if data is None:
        raise PageRefused(404, f"application {application_id} has no photo", "not_found")
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/exceptions/{application_id}/photo.jpg")
def exception_photo(application_id: Id, v: Reviewer, session: Db, rt: Rt) -> Response:
    """The held application's photo (decrypted for this response only)."""
    return _jpeg(session, rt, _held(session, v, application_id).id)


@router.get("/exceptions/{application_id}/match/{other_id}.jpg")
def matched_photo(application_id: Id, other_id: Id, v: Reviewer, session: Db, rt: Rt) -> Response:
    """The photo of the application a FACE_DUPLICATE names, when that one is at the user's site too."""
    app = _held(session, v, application_id)
    other = session.get(Application, other_id)
    if other_id not in other_applications(app) or other is None or not in_scope(v.user, other.site):
        raise PageRefused(404, f"application {other_id} is not a face match of this exception", "not_found")
    return _jpeg(session, rt, other_id)


@router.get("/exceptions/{application_id}/registry-photo.jpg")
def registry_photo(application_id: Id, v: Reviewer, session: Db, rt: Rt) -> Response:
    """The registry's reference photo of a FACE_MISMATCH exception's citizen, asked live (never stored)."""
    app = _held(session, v, application_id)
    if "FACE_MISMATCH" not in reason_codes(app):
        raise PageRefused(404, f"application {app.number} is not held for a face mismatch", "not_found")
    try:
        data = rt.registry.reference_photo(app.applicant.national_number)
    except RegistryError as exc:
        raise PageRefused(503, f"registry: {exc}", "refused") from exc
    if data is None:
        raise PageRefused(404, f"the registry holds no photo of application {app.number}'s citizen",
                          "not_found")
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
