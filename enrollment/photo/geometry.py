"""Head geometry measured on the image: crown against the backdrop, chin from landmarks (ICAO 9303-3)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from enrollment.photo.landmarks import Landmarks, Point

# 5-point model only: the chin lies this many eye-to-nose-base distances below the nose base
# (1.22-1.37 measured on the corpus faces; the 68-point model gives the chin itself).
CHIN_PER_EYE_NOSE = 1.3
# When the hair touches the top edge the crown is not visible; it is then put this many
# eye-to-chin distances above the eyes (eyes 0.43-0.52 of the head height below the crown).
CROWN_PER_EYE_CHIN = 0.92
# A backdrop pixel differs from the backdrop's colour by less than this (CIELAB, 8-bit scale)
# plus a few times the backdrop's own spread; hair and skin differ by more.
BACKDROP_TOLERANCE = 10.0
# A backdrop pixel's gradient (Sobel on CIELAB L, 8-bit scale) stays under this, or under four
# times the backdrop's own; hair strands exceed it even where their colour is the backdrop's.
BACKDROP_TEXTURE = 24.0
# The hair's top is found in a band this many eye distances wide, centred on the face.
CROWN_BAND = 0.8
CROWN_ROW_FRACTION = 0.3


@dataclass(frozen=True)
class Backdrop:
    """Colour and texture statistics of the backdrop sampled in the top corners (CIELAB)."""

    median: tuple[float, float, float]
    spread: float
    texture: float


@dataclass(frozen=True)
class HeadGeometry:
    """Where the head is, in image pixels, and the points each value was measured from."""

    crown: float
    chin: float
    eye_y: float
    centre_x: float
    crown_found: bool
    crown_point: Point
    chin_point: Point

    @property
    def height(self) -> float:
        """Chin to crown in pixels."""
        return self.chin - self.crown


def _gradient(lum: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.magnitude(cv2.Sobel(lum, cv2.CV_32F, 1, 0), cv2.Sobel(lum, cv2.CV_32F, 0, 1)))


def backdrop_stats(lab: np.ndarray) -> Backdrop:
    """Median colour, spread and texture of the top corners, where a compliant photo shows backdrop."""
    h, w = lab.shape[:2]
    rows, cols = max(2, int(0.08 * h)), max(2, int(0.15 * w))
    corners = (lab[:rows, :cols], lab[:rows, w - cols:])
    sample = np.concatenate([c.reshape(-1, 3) for c in corners])
    median = np.median(sample, axis=0)
    spread = float(np.median(np.linalg.norm(sample - median, axis=1)))
    texture = float(np.percentile(np.concatenate([_gradient(c[..., 0]).ravel() for c in corners]), 90))
    return Backdrop((float(median[0]), float(median[1]), float(median[2])), spread, texture)


def chin_point(face: Landmarks) -> Point:
    """The chin: the 68-point model's menton, else extrapolated from eyes and nose base."""
    if face.chin is not None:
        return face.chin
    (mx, my), (nx, ny) = face.eye_mid, face.nose_base
    return (nx + CHIN_PER_EYE_NOSE * (nx - mx), ny + CHIN_PER_EYE_NOSE * (ny - my))


def find_crown(lab: np.ndarray, scale: float, face: Landmarks, bg: Backdrop) -> float | None:
    """Top of the hair in image pixels: the first row, scanning down, that leaves the backdrop.

    None when the first row already differs: the head is cut off at the top.
    """
    h, w = lab.shape[:2]
    cx, eye_y = face.eye_mid[0] * scale, face.eye_mid[1] * scale
    half = CROWN_BAND * face.eye_distance * scale / 2
    x0, x1 = max(0, int(cx - half)), min(w, int(math.ceil(cx + half)))
    bottom = max(1, min(h, int(eye_y)))
    band = lab[:bottom, x0:x1].astype(np.float32)
    distance = np.linalg.norm(band - np.array(bg.median, np.float32), axis=2)
    # Light hair on a light backdrop differs little in colour but still has texture.
    textured = _gradient(band[..., 0]) > max(BACKDROP_TEXTURE, 4 * bg.texture)
    differs = (distance > BACKDROP_TOLERANCE + 3 * bg.spread) | textured
    away = differs.mean(axis=1) >= CROWN_ROW_FRACTION
    # Two rows in a row, so one noisy row of backdrop is not taken for hair.
    steady = away[:-1] & away[1:] if len(away) > 1 else away
    rows = np.flatnonzero(steady)
    if len(rows) == 0 or rows[0] == 0:
        return None
    return float(rows[0]) / scale


def head_geometry(face: Landmarks, lab: np.ndarray, scale: float) -> HeadGeometry:
    """Crown, chin, eye line and centre of one face; `lab` is the image scaled by `scale`."""
    chin = chin_point(face)
    mid = face.eye_mid
    crown = find_crown(lab, scale, face, backdrop_stats(lab))
    found = crown is not None
    if crown is None:
        crown = mid[1] - CROWN_PER_EYE_CHIN * (chin[1] - mid[1])
    return HeadGeometry(crown=crown, chin=chin[1], eye_y=mid[1], centre_x=mid[0], crown_found=found,
                        crown_point=(mid[0], crown), chin_point=chin)
