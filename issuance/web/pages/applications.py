"""The clerk's applications: list and search, drafts to resume or cancel, review, submit, receipt."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager

from enrollment.api import application_status, receipt, submit_application
from enrollment.field_labels import choice_label, label
from issuance.biometrics import load_biometric
from issuance.drafts import cancel_draft
from issuance.models import Applicant, Application, BiometricKind
from issuance.person import PERSON_FIELDS
from issuance.roles import Permission
from issuance.transitions import Actor
from issuance.web.deps import committing, pipeline
from issuance.web.pages.deps import Db, Rt, Visit, page_guard, render, see_other

router = APIRouter(prefix="/counter/applications", include_in_schema=False)
Clerk = Annotated[Visit, Depends(page_guard(Permission.ENROLL))]
Viewer = Annotated[Visit, Depends(page_guard(Permission.VIEW_OWN_APPLICATIONS))]
LIST_LIMIT = 100
_SEARCHED = (Application.number, Applicant.national_number, Applicant.first_name_ar,
             Applicant.family_name_ar, Applicant.given_names_latin, Applicant.surname_latin)


@router.get("")
def my_applications(request: Request, v: Viewer, session: Db, q: str = "", cancelled: str = "") -> Response:
    """The clerk's own applications, newest first, searched by number or name."""
    query = (select(Application).join(Applicant).options(contains_eager(Application.applicant))
             .where(Application.clerk_id == v.user.id).order_by(Application.id.desc()).limit(LIST_LIMIT))
    term = q.strip()
    if term:
        pattern = f"%{term}%"
        query = query.where(or_(*(column.ilike(pattern) for column in _SEARCHED)))
    rows = session.scalars(query).all()
    return render(request, "counter/applications.html", v.words, visit=v, rows=rows, q=term,
                  cancelled=cancelled)


@router.post("/{application_id}/cancel")
def cancel(application_id: int, v: Clerk, session: Db) -> Response:
    """Cancel one of the clerk's own drafts (its data and images are erased)."""
    application_status(application_id, v.user, session)  # 404 unless it is the clerk's own
    with committing(session):
        number = cancel_draft(session, application_id, Actor(v.user.username, v.user.site))
    return see_other(f"/counter/applications?cancelled={number}")


def _applicant_rows(app: Application, language: str) -> list[tuple[str, str]]:
    a = app.applicant
    names = (*PERSON_FIELDS, "mrz_name")
    return [(label(name, language), choice_label(name, str(getattr(a, name, "") or ""), language))
            for name in names]


def _review(request: Request, v: Visit, application_id: int, session: Db, status: int = 200,
            error: str = "") -> Response:
    state = application_status(application_id, v.user, session)
    app = session.get_one(Application, application_id)
    return render(request, "counter/review.html", v.words, status=status, visit=v, app=state,
                  kind=choice_label("kind", str(app.kind), v.words.language),
                  rows=_applicant_rows(app, v.words.language), error=error)


@router.get("/{application_id}/review")
def review(request: Request, application_id: int, v: Viewer, session: Db) -> Response:
    """Everything captured for the application on one screen."""
    return _review(request, v, application_id, session)


@router.post("/{application_id}/submit")
def submit(request: Request, application_id: int, v: Clerk, session: Db) -> Response:
    """Submit through the enrollment API's handler; what is still missing is shown on the review."""
    try:
        submit_application(application_id, v.user, session, pipeline(request))
    except HTTPException as exc:
        if exc.status_code != 409:
            raise
        return _review(request, v, application_id, session, status=409, error=str(exc.detail))
    return see_other(f"/counter/applications/{application_id}/receipt")


@router.get("/{application_id}/receipt")
def receipt_page(request: Request, application_id: int, v: Viewer, session: Db) -> Response:
    """The submitted application's number and the receipt to print."""
    state = application_status(application_id, v.user, session)
    return render(request, "counter/receipt.html", v.words, visit=v, app=state)


@router.get("/{application_id}/receipt.pdf")
def receipt_pdf(application_id: int, v: Viewer, session: Db, rt: Rt) -> Response:
    """The receipt PDF from the enrollment API (opened in the browser's viewer to print)."""
    pdf = receipt(application_id, v.user, session, rt)
    pdf.headers["Content-Disposition"] = f'inline; filename="receipt-{application_id}.pdf"'
    return pdf


def _image(application_id: int, v: Visit, session: Db, rt: Rt, kind: BiometricKind,
           media_type: str) -> Response:
    application_status(application_id, v.user, session)  # 404 unless it is the clerk's own
    data = load_biometric(session, rt.vault, application_id, kind)
    if data is None:
        raise HTTPException(404, f"no {kind} captured yet")
    return Response(data, media_type=media_type, headers={"Cache-Control": "no-store"})


@router.get("/{application_id}/photo.jpg")
def photo_image(application_id: int, v: Viewer, session: Db, rt: Rt) -> Response:
    """The stored photo (decrypted for this response only)."""
    return _image(application_id, v, session, rt, BiometricKind.PHOTO, "image/jpeg")


@router.get("/{application_id}/signature.png")
def signature_image(application_id: int, v: Viewer, session: Db, rt: Rt) -> Response:
    """The stored signature."""
    return _image(application_id, v, session, rt, BiometricKind.SIGNATURE, "image/png")

