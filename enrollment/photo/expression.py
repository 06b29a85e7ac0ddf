"""Eyes open and mouth closed (ICAO 9303-3 §3.9: neutral expression, eyes open, mouth closed)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from enrollment.photo.landmarks import EYE_A, EYE_B, INNER_LIP_BOTTOM, INNER_LIP_TOP, Landmarks, Point

# 5-point model: a row of the iris strip counts as iris when darker than the skin by this share.
IRIS_DARKNESS = 0.25
# 5-point model: a row below the nose counts as an open mouth when this much darker than skin.
CAVITY_DARKNESS = 0.45
# Where the mouth sits below the nose base, in eye-to-nose-base distances (5-point model).
MOUTH_BELOW_NOSE = (0.15, 0.95)


@dataclass(frozen=True)
class Expression:
    """Eye openness and lip gap, with the points or boxes they were measured on."""

    eye_openness: float
    lip_gap: float
    method: str
    eye_points: tuple[Point, ...]
    mouth_points: tuple[Point, ...]


def _dist(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _aspect_ratio(eye: list[Point]) -> float:
    """Eye aspect ratio (Soukupová and Čech 2016): lid distances over the corner distance."""
    p1, p2, p3, p4, p5, p6 = eye
    return (_dist(p2, p6) + _dist(p3, p5)) / (2 * _dist(p1, p4))


def _dark_rows(strip: np.ndarray, reference: float, darkness: float) -> np.ndarray:
    if strip.size == 0:
        return np.zeros(0, bool)
    return np.asarray((1 - strip.mean(axis=1) / max(reference, 1.0)) > darkness)


def _longest_dark_run(strip: np.ndarray, reference: float, darkness: float) -> int:
    best = run = 0
    for flag in _dark_rows(strip, reference, darkness):
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def _run_through(strip: np.ndarray, reference: float, darkness: float, row: int, slack: int) -> int:
    """Length of the dark run that reaches `row` (within `slack` rows): the iris, not a glasses rim."""
    dark = _dark_rows(strip, reference, darkness)
    best, start = 0, None
    for i, flag in enumerate([*dark.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if start - slack <= row <= i - 1 + slack:
                best = max(best, i - start)
            start = None
    return best


def _strip(gray: np.ndarray, centre: Point, half_w: float, top: float, bottom: float) -> np.ndarray:
    h, w = gray.shape
    x0, x1 = max(0, int(centre[0] - half_w)), min(w, int(math.ceil(centre[0] + half_w)) + 1)
    y0, y1 = max(0, int(top)), min(h, int(math.ceil(bottom)))
    return gray[y0:y1, x0:x1].astype(np.float32)


def _face_height(face: Landmarks, chin: Point) -> float:
    return max(1.0, _dist(face.eye_mid, chin))


def expression(gray: np.ndarray, face: Landmarks, chin: Point, skin_luminance: float) -> Expression:
    """Eye openness and lip gap: from the 68-point contours, or from the pixels around the 5 points."""
    if face.model == "68":
        p = face.points
        eyes = [list(p[EYE_A]), list(p[EYE_B])]
        ear = min(_aspect_ratio(e) for e in eyes)
        gap = sum(_dist(p[t], p[b]) for t, b in zip(INNER_LIP_TOP, INNER_LIP_BOTTOM, strict=True)) / 3
        mouth = tuple(p[48:68])
        return Expression(ear, gap / _face_height(face, chin), "68-point contours",
                          tuple(p[36:48]), mouth)
    return _from_pixels(gray, face, chin, skin_luminance)


def _from_pixels(gray: np.ndarray, face: Landmarks, chin: Point, skin: float) -> Expression:
    # Open eye: a dark iris as tall as a third of the eye's width; closed: a thin lash line.
    openness = []
    for eye in face.eye_points:
        width = _dist(eye[0], eye[1])
        centre = ((eye[0][0] + eye[1][0]) / 2, (eye[0][1] + eye[1][1]) / 2)
        top = max(0.0, centre[1] - 0.4 * width)
        strip = _strip(gray, centre, 0.15 * width, top, centre[1] + 0.4 * width)
        run = _run_through(strip, skin, IRIS_DARKNESS, int(centre[1] - int(top)), max(1, int(0.05 * width)))
        openness.append(run / max(width, 1.0))
    (_, my), (nx, ny) = face.eye_mid, face.nose_base
    d = ny - my
    top, bottom = ny + MOUTH_BELOW_NOSE[0] * d, ny + MOUTH_BELOW_NOSE[1] * d
    strip = _strip(gray, (nx, 0), 0.25 * face.eye_distance, top, bottom)
    gap = _longest_dark_run(strip, skin, CAVITY_DARKNESS)
    box = ((nx - 0.25 * face.eye_distance, top), (nx + 0.25 * face.eye_distance, bottom))
    return Expression(min(openness), gap / _face_height(face, chin), "pixels around the 5 points",
                      tuple(pt for eye in face.eye_points for pt in eye), box)
