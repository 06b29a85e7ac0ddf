"""Enrollment HTTP API (FastAPI router under the core app): drafts, photo, signature, submit."""

from __future__ import annotations

import dataclasses
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from PIL import Image
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from enrollment.application_check import check_application
from enrollment.errors import ValidationError
from enrollment.fields import Applicant
from enrollment.mrz_name import propose_mrz_name
from enrollment.photo.checks import assess_photo
from enrollment.photo.crop import CropError, chip_jpeg, make_compliant_crop, make_token_image
from enrollment.photo.intake import DEFAULT_LIMITS, ImageRejected, check_declared_type, decode_image
from enrollment.photo.thresholds import thresholds_from_config
from enrollment.rules import rules_from_config
from enrollment.signature import SIGNATURE_BOX, SignatureRejected, prepare_signature
from enrollment.transliteration import transliterate_components
from issuance.applications import open_application, submit
from issuance.biometrics import ImageMeta, load_biometric, remove_biometric, store_biometric
from issuance.models import Application, BiometricImage, BiometricKind, User
from issuance.person import Person
from issuance.pipeline import Pipeline
from issuance.review import override_covers
from issuance.roles import Permission
from issuance.states import ApplicationState
from issuance.transitions import Actor, NotFound
from issuance.web.deps import WebRuntime, committing, db_session, pipeline, require, runtime
from issuance.web.inputs import Id
from printing.receipt import Receipt, render_receipt_pdf

MAX_PHOTO_BYTES = DEFAULT_LIMITS.max_bytes
MAX_SIGNATURE_BYTES = 2 * 1024 * 1024
MAX_JSON_BYTES = 64 * 1024
STORED_PHOTO_QUALITY = 92
# A photo that failed is kept for a supervisor's override decision, not for printing.
MAX_FAILED_PHOTO_SIDE = 1600
_IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}}
                    for t in ("image/jpeg", "image/png", "image/jp2", "application/octet-stream")},
    }
}

router = APIRouter(prefix="/api/enrollment", tags=["enrollment"])
# The role guard is declared before any body dependency in every handler, so nobody
# unauthorised gets as far as uploading bytes (dependencies run in parameter order).
Clerk = Annotated[User, Depends(require(Permission.ENROLL))]
Viewer = Annotated[User, Depends(require(Permission.VIEW_OWN_APPLICATIONS))]
Db = Annotated[Session, Depends(db_session)]
Rt = Annotated[WebRuntime, Depends(runtime)]


class ApplicantIn(BaseModel):
    """Applicant fields as typed at the counter; all checking is done by `validate_applicant`."""

    model_config = ConfigDict(extra="allow")

    national_number: str | None = None
    first_name_ar: str | None = None
    father_name_ar: str | None = None
    grandfather_name_ar: str | None = None
    family_name_ar: str | None = None
    given_names_latin: str | None = None
    surname_latin: str | None = None
    mrz_name: str | None = None
    birth_date: str | None = None
    sex: str | None = None
    nationality: str | None = None
    issuing_state: str | None = None
    birth_place: str | None = None
    address: str | None = None
    kind: str | None = None
    replacement_reason: str | None = None
    replaces_card: str | None = None


class DraftOut(BaseModel):
    """A new draft and the MRZ name proposed for review."""

    id: int
    number: str
    state: str
    kind: str
    mrz_name: str
    mrz_name_truncated: bool


class StatusOut(BaseModel):
    """Where an application stands and what has been captured."""

    id: int
    number: str
    state: str
    mrz_name: str
    photo_passed: bool | None
    signature: bool
    outcome_reasons: list[Any] | None


async def _limited_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds `limit` (before any parsing)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"upload is {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"upload exceeds the limit of {limit} bytes")
    if not body:
        raise HTTPException(422, "the upload is empty")
    return bytes(body)


async def photo_body(request: Request) -> bytes:
    """Photo upload body, at most MAX_PHOTO_BYTES."""
    return await _limited_body(request, MAX_PHOTO_BYTES)


async def signature_body(request: Request) -> bytes:
    """Signature upload body, at most MAX_SIGNATURE_BYTES."""
    return await _limited_body(request, MAX_SIGNATURE_BYTES)


def _own_application(session: Session, application_id: int, user: User) -> Application:
    app = session.get(Application, application_id)
    # Another clerk's application is reported as missing, not forbidden: ids are not a secret
    # worth confirming.
    if app is None or app.clerk_id != user.id:
        raise NotFound(f"application {application_id} does not exist")
    return app


def _require_draft(app: Application) -> None:
    if app.state != ApplicationState.DRAFT:
        raise HTTPException(409, f"application {app.number} is {app.state}; only drafts change")


def own_draft(application_id: Id, user: Clerk, session: Db) -> None:
    """Ownership and state, checked before an upload is read or decoded (no work for strangers).

    The handler checks both again inside its transaction; this only keeps the expensive part away.
    """
    _require_draft(_own_application(session, application_id, user))
    session.rollback()  # end the read so the handler's own transaction starts clean


def _latin_or_transliterated(latin: str, arabic: list[str]) -> str:
    if latin:
        return latin
    return " ".join(c for part in arabic if part for c in transliterate_components(part))


def person_of(a: Applicant) -> Person:
    """The person to store, with Latin names transliterated from the Arabic where left blank."""
    return dataclasses.replace(
        a.person(),
        given_names_latin=_latin_or_transliterated(a.given_names_latin, list(a.names_ar[:3])),
        surname_latin=_latin_or_transliterated(a.surname_latin, [a.family_name_ar]),
    )


async def applicant_body(request: Request) -> ApplicantIn:
    """Applicant JSON, at most MAX_JSON_BYTES, parsed only after the size check."""
    data = await _limited_body(request, MAX_JSON_BYTES)
    try:
        return ApplicantIn.model_validate_json(data)
    except PydanticValidationError as exc:
        raise HTTPException(422, {"message": "the body must be a JSON object of text fields",
                                  "errors": exc.errors(include_url=False, include_input=False)},
                            ) from exc


@router.post("/applications", status_code=201, response_model=DraftOut,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": ApplicantIn.model_json_schema()}}}},
             responses={413: {"description": "too large"},
                        422: {"description": "field errors in English and Arabic"}})
def create_draft(
    user: Clerk, body: Annotated[ApplicantIn, Depends(applicant_body)], session: Db, rt: Rt
) -> DraftOut:
    """Validate the applicant data and open a draft application."""
    raw = body.model_dump(exclude_none=True)
    raw.setdefault("issuing_state", rt.settings.issuing_state)
    try:  # every broken rule at once, applicant data and kind alike
        checked = check_application(raw, rules_from_config(rt.settings.extra))
    except ValidationError as exc:
        raise HTTPException(422, {"message": "applicant data is invalid",
                                  "errors": [e.as_dict() for e in exc.errors]}) from exc
    applicant, choice = checked.applicant, checked.choice
    proposal = propose_mrz_name(applicant.family_name_ar, [g for g in applicant.names_ar[:3] if g])
    # Stored without the trailing filler: DG1 and the printed MRZ pad it to their own field.
    mrz_name = (applicant.mrz_name or proposal.field).rstrip("<")
    with committing(session):
        app = open_application(session, person_of(applicant), user, mrz_name=mrz_name,
                               kind=choice.kind, replacement_reason=choice.replacement_reason,
                               replaces_document_number=choice.replaces_document_number)
        number = str(app.number)
        result = DraftOut(id=app.id, number=number, state=str(app.state), kind=str(app.kind),
                          mrz_name=mrz_name,
                          mrz_name_truncated=proposal.truncated and not applicant.mrz_name)
    return result


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@router.put("/applications/{application_id}/photo", openapi_extra=_IMAGE_BODY,
            responses={413: {"description": "too large"}, 422: {"description": "not an image"}})
def upload_photo(
    application_id: Id, user: Clerk, _: Annotated[None, Depends(own_draft)],
    data: Annotated[bytes, Depends(photo_body)], session: Db, rt: Rt,
    content_type: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Check the photo; store the compliant crop and chip JPEG if it passes, and report."""
    try:
        check_declared_type(content_type, data)
        image = decode_image(data)
    except ImageRejected as exc:
        raise HTTPException(exc.status, {"code": exc.code, "message": exc.reason}) from exc
    thresholds = thresholds_from_config(rt.settings.extra)
    report = assess_photo(image, thresholds)
    result: dict[str, Any] = report.as_dict()
    stored, chip = image, None
    if report.passed:
        try:
            stored = make_compliant_crop(image, thresholds=thresholds)
            chip = chip_jpeg(make_token_image(image))
        except CropError as exc:
            result["passed"] = False
            result["crop_error"] = exc.reason
    passed = bool(result["passed"])
    if not passed:
        stored = stored.copy()
        stored.thumbnail((MAX_FAILED_PHOTO_SIDE, MAX_FAILED_PHOTO_SIDE))
    with committing(session):
        app = _own_application(session, application_id, user)
        _require_draft(app)
        # Re-encoded pixels only: nothing of the uploaded file (metadata, trailing bytes) is kept.
        store_biometric(session, rt.vault, app.id, BiometricKind.PHOTO,
                        _jpeg(stored, STORED_PHOTO_QUALITY),
                        ImageMeta("image/jpeg", stored.width, stored.height), user.username,
                        quality_passed=passed, quality_report=result)
        if chip is not None:
            chip_size = Image.open(io.BytesIO(chip)).size
            store_biometric(session, rt.vault, app.id, BiometricKind.CHIP_PHOTO, chip,
                            ImageMeta("image/jpeg", *chip_size), user.username,
                            quality_passed=True)
        else:  # a chip image made from an earlier upload must not outlive it
            remove_biometric(session, app.id, BiometricKind.CHIP_PHOTO, user.username)
    return result


@router.put("/applications/{application_id}/signature", openapi_extra=_IMAGE_BODY,
            responses={413: {"description": "too large"}, 422: {"description": "no signature"}})
def upload_signature(
    application_id: Id, user: Clerk, _: Annotated[None, Depends(own_draft)],
    data: Annotated[bytes, Depends(signature_body)], session: Db, rt: Rt,
    content_type: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Binarise and fit the signature to the card's box, then store it."""
    try:
        check_declared_type(content_type, data)
        png = prepare_signature(data)
    except ImageRejected as exc:
        raise HTTPException(exc.status, {"code": exc.code, "message": exc.reason}) from exc
    except SignatureRejected as exc:
        raise HTTPException(422, {"code": "no_signature", "message": exc.reason}) from exc
    with committing(session):
        app = _own_application(session, application_id, user)
        _require_draft(app)
        store_biometric(session, rt.vault, app.id, BiometricKind.SIGNATURE, png,
                        ImageMeta("image/png", *SIGNATURE_BOX), user.username)
    return {"stored": True, "width": SIGNATURE_BOX[0], "height": SIGNATURE_BOX[1]}


def _captured(session: Session, application_id: int) -> dict[BiometricKind, BiometricImage]:
    rows = session.scalars(select(BiometricImage).where(
        BiometricImage.application_id == application_id))
    return {row.kind: row for row in rows}


@router.post("/applications/{application_id}/submit", status_code=202, response_model=StatusOut)
def submit_application(
    application_id: Id, user: Clerk, session: Db, announce: Annotated[Pipeline, Depends(pipeline)]
) -> StatusOut:
    """Move a complete draft to `submitted` and queue its validation."""
    with committing(session):
        app = _own_application(session, application_id, user)
        _require_draft(app)
        captured = _captured(session, app.id)
        photo = captured.get(BiometricKind.PHOTO)
        missing = []
        if photo is None or not (photo.quality_passed or override_covers(app, photo.id, photo.digest)):
            missing.append("a photo that passes the quality checks")
        if BiometricKind.SIGNATURE not in captured:
            missing.append("a signature")
        if missing:
            raise HTTPException(409, f"cannot submit yet: needs {' and '.join(missing)}")
        if not submit(session, app.id, Actor(user.username, user.site)):
            raise HTTPException(409, f"application {app.number} was changed meanwhile; reload")
    announce.submitted([application_id])
    return application_status(application_id, user, session)


@router.get("/applications/{application_id}", response_model=StatusOut)
def application_status(application_id: Id, user: Viewer, session: Db) -> StatusOut:
    """State of one of the clerk's own applications."""
    app = _own_application(session, application_id, user)
    captured = _captured(session, app.id)
    photo = captured.get(BiometricKind.PHOTO)
    return StatusOut(
        id=app.id, number=str(app.number), state=str(app.state), mrz_name=app.applicant.mrz_name,
        photo_passed=None if photo is None else photo.quality_passed,
        signature=BiometricKind.SIGNATURE in captured,
        outcome_reasons=app.outcome_reasons,
    )


@router.get("/applications/{application_id}/receipt", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def receipt(application_id: Id, user: Viewer, session: Db, rt: Rt) -> Response:
    """The counter receipt as PDF."""
    app = _own_application(session, application_id, user)
    photo_bytes = load_biometric(session, rt.vault, app.id, BiometricKind.PHOTO)
    a = app.applicant
    pdf = render_receipt_pdf(Receipt(
        application_number=str(app.number), arabic_name=" ".join(a.person.full_name_ar.split()),
        latin_name=a.person.full_name_latin, office=app.site,
        issued_at=app.created_at, photo=decode_image(photo_bytes) if photo_bytes else None,
    ))
    return Response(pdf, media_type="application/pdf")
