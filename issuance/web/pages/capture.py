"""Photo (webcam with guides, or a file) and signature (pen pad, or a scan) for a draft."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import Response

from enrollment.api import (
    application_status,
    own_draft,
    photo_body,
    signature_body,
    upload_photo,
    upload_signature,
)
from enrollment.photo.thresholds import Thresholds, thresholds_from_config
from issuance.roles import Permission
from issuance.web.pages.deps import Db, Rt, Visit, page_guard, render

# Where the live overlay puts the eyes within the head: real faces measure 0.43-0.52 of the head
# height below the crown; the overlay only guides, the checks measure.
EYES_BELOW_CROWN = 0.48
router = APIRouter(prefix="/counter/applications", include_in_schema=False)
Clerk = Annotated[Visit, Depends(page_guard(Permission.ENROLL))]


def head_marks(report: dict[str, Any]) -> dict[str, Any] | None:
    """Where the report's measures were taken (face box, eyes, crown, chin), to draw on the photo."""
    g = report.get("guides") or {}
    if not g.get("face_box"):
        return None
    x, _, w, _ = g["face_box"]
    return {"box": g["face_box"], "eyes": g.get("eyes"), "crown": g["crown"][1], "chin": g["chin"][1],
            "eye_y": g["eye_line_y"], "centre_x": round(x + w / 2, 1), "landmarks": g.get("landmarks")}


def guides(t: Thresholds) -> dict[str, float]:
    """The overlay's proportions, from the same thresholds the checks use."""
    return {"head_lo": t.head_height[0], "head_hi": t.head_height[1], "eye_lo": t.eye_line[0],
            "eye_hi": t.eye_line[1], "eye_in_head": EYES_BELOW_CROWN}


@router.get("/{application_id}/photo")
def photo_page(request: Request, application_id: int, v: Clerk, session: Db, rt: Rt) -> Response:
    """The capture screen: live camera with guides, capture and retake keys, or a file."""
    status = application_status(application_id, v.user, session)
    return render(request, "counter/photo.html", v.words, visit=v, app=status,
                  guides=guides(thresholds_from_config(rt.settings.extra)))


def _own_draft(application_id: int, v: Clerk, session: Db) -> None:
    """Ownership and state before the upload is read (the API's own check)."""
    own_draft(application_id, v.user, session)


OwnDraft = Annotated[None, Depends(_own_draft)]
ContentType = Annotated[str | None, Header()]


@router.put("/{application_id}/photo")
def put_photo(application_id: int, v: Clerk, _: OwnDraft, data: Annotated[bytes, Depends(photo_body)],
              session: Db, rt: Rt, content_type: ContentType = None) -> dict[str, Any]:
    """Store and assess the photo through the enrollment API; add where to draw the report."""
    report = upload_photo(application_id, v.user, None, data, session, rt, content_type)
    return {**report, "marks": head_marks(report)}


@router.get("/{application_id}/signature")
def signature_page(request: Request, application_id: int, v: Clerk, session: Db) -> Response:
    """The signature pad (pointer events on a canvas) or a scanned file."""
    status = application_status(application_id, v.user, session)
    return render(request, "counter/signature.html", v.words, visit=v, app=status)


@router.put("/{application_id}/signature")
def put_signature(application_id: int, v: Clerk, _: OwnDraft,
                  data: Annotated[bytes, Depends(signature_body)], session: Db, rt: Rt,
                  content_type: ContentType = None) -> dict[str, Any]:
    """Store the signature through the enrollment API."""
    return upload_signature(application_id, v.user, None, data, session, rt, content_type)
