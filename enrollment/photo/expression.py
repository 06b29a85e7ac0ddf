"""Eyes open and mouth closed (ICAO 9303-3 §3.9: neutral expression, eyes open, mouth closed)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from enrollment.photo.landmarks import EYE_A, EYE_B, INNER_LIP_BOTTOM, INNER_LIP_TOP, Landmarks, Point

# A row of the iris strip counts as iris when darker than the skin by this share.
IRIS_DARKNESS = 0.25
# A row below the nose counts as mouth cavity when this much darker than the skin.
CAVITY_DARKNESS = 0.55
# Where the mouth sits below the nose base, in eye-to-nose-base distances (5-point model).
MOUTH_BELOW_NOSE = (0.15, 0.95)


@dataclass(frozen=True)
class Expression:
    """Eye and mouth measures, with the points or boxes they were measured on.

    `iris` and `cavity` are measured on the pixels (any landmark model); `eye_aspect` and
    `lip_gap` come from the 68-point contours and are None with the 5-point model.
    """

    iris: float
    cavity: float
    eye_aspect: float | None
    lip_gap: float | None
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


def _runs(dark: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of True."""
    out, start = [], None
    for i, flag in enumerate([*dark.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            out.append((start, i - start))
            start = None
    return out


def _cavity_rows(strip: np.ndarray, reference: float, darkness: float, first_row: int) -> int:
    """Longest dark run, counting a run that starts above `first_row` only below twice that row.

    A run that starts so high hangs from under the nose: a moustache or the nose's shadow, which
    ends at the upper lip; an open mouth shows between the lips and reaches much lower.
    """
    runs = _runs(_dark_rows(strip, reference, darkness))
    return max((n if start >= first_row else max(0, start + n - 2 * first_row) for start, n in runs),
               default=0)


def _run_through(strip: np.ndarray, reference: float, darkness: float, row: int, slack: int) -> int:
    """Length of the dark run that reaches `row` (within `slack` rows): the iris, not a glasses rim."""
    runs = _runs(_dark_rows(strip, reference, darkness))
    return max((n for start, n in runs if start - slack <= row <= start + n - 1 + slack), default=0)


def _strip(gray: np.ndarray, centre: Point, half_w: float, top: float, bottom: float) -> np.ndarray:
    h, w = gray.shape
    x0, x1 = max(0, int(centre[0] - half_w)), min(w, int(math.ceil(centre[0] + half_w)) + 1)
    y0, y1 = max(0, int(top)), min(h, int(math.ceil(bottom)))
    return gray[y0:y1, x0:x1].astype(np.float32)


def _face_height(face: Landmarks, chin: Point) -> float:
    return max(1.0, _dist(face.eye_mid, chin))


def _corners(eye: list[Point]) -> tuple[Point, Point]:
    return min(eye), max(eye)


def expression(gray: np.ndarray, face: Landmarks, chin: Point, skin: float) -> Expression:
    """Iris height and mouth cavity on the pixels; eye aspect ratio and lip gap from 68 points."""
    height = _face_height(face, chin)
    # Open eye: a dark iris at the eye line as tall as a third of the eye's width; closed: a thin
    # lash line. The 68-point contours alone do not see a shut eye: their shape prior keeps it open.
    openness = []
    for eye in face.eye_points:
        a, b = _corners(eye)
        width = _dist(a, b)
        centre = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        top = max(0.0, centre[1] - 0.4 * width)
        strip = _strip(gray, centre, 0.15 * width, top, centre[1] + 0.4 * width)
        run = _run_through(strip, skin, IRIS_DARKNESS, int(centre[1] - int(top)), max(1, int(0.05 * width)))
        openness.append(run / max(width, 1.0))
    (_, my), (nx, ny) = face.eye_mid, face.nose_base
    d = ny - my
    top, bottom = ny + MOUTH_BELOW_NOSE[0] * d, ny + MOUTH_BELOW_NOSE[1] * d
    # A dark cavity, not the teeth of a smile, is what an open mouth shows.
    strip = _strip(gray, (nx, 0), 0.25 * face.eye_distance, top, bottom)
    cavity = _cavity_rows(strip, skin, CAVITY_DARKNESS, int(0.15 * d)) / height
    box = ((nx - 0.25 * face.eye_distance, top), (nx + 0.25 * face.eye_distance, bottom))
    eye_points = tuple(pt for eye in face.eye_points for pt in eye)
    if face.model != "68":
        return Expression(min(openness), cavity, None, None, eye_points, box)
    p = face.points
    ear = min(_aspect_ratio(list(p[EYE_A])), _aspect_ratio(list(p[EYE_B])))
    gap = sum(_dist(p[t], p[b]) for t, b in zip(INNER_LIP_TOP, INNER_LIP_BOTTOM, strict=True)) / 3
    return Expression(min(openness), cavity, ear, gap / height, eye_points, tuple(p[48:68]))
