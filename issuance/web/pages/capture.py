"""Photo (webcam with guides, or a file) and signature (pen pad, or a scan) for a draft."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from enrollment.api import application_status, photo_body, signature_body, upload_photo, upload_signature
from enrollment.face import find_faces
from enrollment.image_intake import decode_image
from enrollment.photo_quality import head_geometry
from enrollment.thresholds import Thresholds, thresholds_from_config
from issuance.roles import Permission
from issuance.web.pages.deps import Db, Rt, Visit, page_guard, render

router = APIRouter(prefix="/counter/applications", include_in_schema=False)
Clerk = Annotated[Visit, Depends(page_guard(Permission.ENROLL))]


def head_marks(data: bytes, t: Thresholds) -> dict[str, Any] | None:
    """Where the report's measures were taken (face box, eyes, crown, chin), to draw on the photo."""
    image = decode_image(data)
    faces = find_faces(np.asarray(image.convert("L")))
    if len(faces) != 1:
        return None
    face = faces[0]
    geo = head_geometry(face, t)
    return {"width": image.width, "height": image.height, "box": list(face.box),
            "eyes": [list(p) for p in face.eyes] if face.eyes else None,
            "crown": geo.crown, "chin": geo.chin, "eye_y": geo.eye_y, "centre_x": geo.centre_x}


def guides(t: Thresholds) -> dict[str, float]:
    """The overlay's proportions, from the same thresholds the checks use."""
    return {"head_lo": t.head_height[0], "head_hi": t.head_height[1], "eye_lo": t.eye_line[0],
            "eye_hi": t.eye_line[1], "eye_in_head": t.eye_line_in_head}


@router.get("/{application_id}/photo")
def photo_page(request: Request, application_id: int, v: Clerk, session: Db, rt: Rt) -> Response:
    """The capture screen: live camera with guides, capture and retake keys, or a file."""
    status = application_status(application_id, v.user, session)
    return render(request, "counter/photo.html", v.words, visit=v, app=status,
                  guides=guides(thresholds_from_config(rt.settings.extra)))


@router.put("/{application_id}/photo")
def put_photo(application_id: int, v: Clerk, data: Annotated[bytes, Depends(photo_body)],
              session: Db, rt: Rt) -> dict[str, Any]:
    """Store and assess the photo through the enrollment API; add where to draw the report."""
    report = upload_photo(application_id, v.user, data, session, rt)
    return {**report, "marks": head_marks(data, thresholds_from_config(rt.settings.extra))}


@router.get("/{application_id}/signature")
def signature_page(request: Request, application_id: int, v: Clerk, session: Db) -> Response:
    """The signature pad (pointer events on a canvas) or a scanned file."""
    status = application_status(application_id, v.user, session)
    return render(request, "counter/signature.html", v.words, visit=v, app=status)


@router.put("/{application_id}/signature")
def put_signature(application_id: int, v: Clerk, data: Annotated[bytes, Depends(signature_body)],
                  session: Db, rt: Rt) -> dict[str, Any]:
    """Store the signature through the enrollment API."""
    return upload_signature(application_id, v.user, data, session, rt)
