"""Head geometry from a detected face: crown, chin, eye line (ICAO 9303-3 photo geometry)."""

from __future__ import annotations

from dataclasses import dataclass

from enrollment.face import Face
from enrollment.thresholds import DEFAULT_THRESHOLDS, Thresholds

# Where the eye line sits inside a Haar face box, when the eyes themselves are not found.
EYE_LINE_IN_BOX = 0.37


@dataclass(frozen=True)
class HeadGeometry:
    """Where the head is, in image pixels (crown and chin estimated from the head model)."""

    crown: float
    chin: float
    eye_y: float
    centre_x: float

    @property
    def height(self) -> float:
        """Chin to crown in pixels."""
        return self.chin - self.crown


def head_geometry(face: Face, t: Thresholds = DEFAULT_THRESHOLDS) -> HeadGeometry:
    """Crown, chin, eye line and centre of a face from its eyes and box (ICAO 9303-3 geometry)."""
    x, y, side, _ = face.box
    by_box = t.head_per_face_box * side
    ipd, mid = face.eye_distance, face.eye_mid
    if ipd is None or mid is None:
        height = by_box
        eye_y, centre_x = y + EYE_LINE_IN_BOX * side, x + side / 2
    else:
        height = (by_box + t.head_per_eye_distance * ipd) / 2
        eye_y, centre_x = mid[1], mid[0]
    crown = eye_y - t.eye_line_in_head * height
    return HeadGeometry(crown=crown, chin=crown + height, eye_y=eye_y, centre_x=centre_x)
