"""Head pose (yaw, pitch) from the landmark layout: OpenCV solvePnP on a generic 3-D face."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from enrollment.photo.landmarks import Landmarks, Point

# A generic adult face in millimetres, camera axes (x right, y down, z away from the camera),
# origin between the inner eye corners. Average proportions, not one person's.
MODEL_5 = {
    "outer_a": (-45.0, 0.0, 18.0), "inner_a": (-16.0, 0.0, 0.0),
    "inner_b": (16.0, 0.0, 0.0), "outer_b": (45.0, 0.0, 18.0),
    "nose_base": (0.0, 48.0, -18.0),
}
MODEL_68_EXTRA = {
    "nose_tip": (0.0, 35.0, -30.0), "chin": (0.0, 104.0, -4.0),
    "mouth_a": (-25.0, 62.0, 2.0), "mouth_b": (25.0, 62.0, 2.0),
}
# A portrait lens: a focal length of about twice the image height (a 35 mm equivalent of ~85 mm).
FOCAL_PER_HEIGHT = 2.0


@dataclass(frozen=True)
class Pose:
    """Head rotation in degrees: yaw (turned), pitch (nodded); the points the fit used."""

    yaw: float
    pitch: float
    points: tuple[Point, ...]


def _image_points(face: Landmarks) -> dict[str, Point]:
    a, b = face.eye_points
    cx = face.eye_mid[0]
    # Outer corner of each eye: the one farther from the middle of the face.
    a_outer, a_inner = sorted(a, key=lambda p: abs(p[0] - cx), reverse=True)[0], max(a, key=lambda p: p[0])
    b_outer, b_inner = sorted(b, key=lambda p: abs(p[0] - cx), reverse=True)[0], min(b, key=lambda p: p[0])
    points = {"outer_a": a_outer, "inner_a": a_inner, "inner_b": b_inner, "outer_b": b_outer,
              "nose_base": face.nose_base}
    if face.model == "68":
        p = face.points
        mouth = sorted((p[48], p[54]))
        points |= {"nose_tip": p[30], "chin": p[8], "mouth_a": mouth[0], "mouth_b": mouth[1]}
    return points


def head_pose(face: Landmarks, size: tuple[int, int]) -> Pose:
    """Yaw and pitch of the head, from a perspective fit of the generic face to the landmarks."""
    width, height = size
    points = _image_points(face)
    model = MODEL_5 | (MODEL_68_EXTRA if face.model == "68" else {})
    names = list(model)
    obj = np.array([model[n] for n in names], np.float64)
    img = np.array([points[n] for n in names], np.float64)
    f = FOCAL_PER_HEIGHT * height
    camera = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]], np.float64)
    # Start from a frontal face at the distance its eye width implies: with so few, nearly
    # coplanar points a global solver may pick the mirror solution (nodding the other way).
    eye_px = float(np.hypot(*np.subtract(points["outer_b"], points["outer_a"])))
    distance = f * (model["outer_b"][0] - model["outer_a"][0]) / max(eye_px, 1.0)
    guess = np.zeros((3, 1))
    tvec = np.array([[0.0], [0.0], [distance]])
    ok, rvec, _ = cv2.solvePnP(obj, img, camera, None, guess, tvec, useExtrinsicGuess=True,
                               flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return Pose(float("nan"), float("nan"), tuple(img.tolist()))
    rotation = np.asarray(cv2.Rodrigues(rvec)[0], np.float64)
    angles = cv2.RQDecomp3x3(rotation)[0]
    return Pose(yaw=_wrap(angles[1]), pitch=_wrap(angles[0]), points=tuple(map(tuple, img.tolist())))


def _wrap(deg: float) -> float:
    return float((deg + 180.0) % 360.0 - 180.0)
