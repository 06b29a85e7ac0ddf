"""Pixel measures behind the photo checks (ISO/IEC 29794-5 style): each returns a number."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from enrollment.photo.geometry import HeadGeometry
from enrollment.photo.landmarks import Landmarks

SHARPNESS_SIDE = 128
# Photometric checks and the crown search run on a copy this wide (face detection too).
WORK_WIDTH = 320


def work_copy(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """A WORK_WIDTH-wide RGB copy, its CIELAB (float32, 8-bit scaling) and the scale factor."""
    height, width = rgb.shape[:2]
    scale = WORK_WIDTH / width
    small = cv2.resize(rgb, (WORK_WIDTH, max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    return small, cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32), scale


def blockiness(gray: np.ndarray) -> float:
    """JPEG blocking: strongest 8-px periodic step in the gradient profile over the median phase."""

    def fold(diffs: np.ndarray) -> float:
        profile = diffs.mean(axis=0)
        usable = len(profile) - len(profile) % 8
        phases = profile[:usable].reshape(-1, 8).mean(axis=0)
        return float(phases.max() / max(float(np.median(phases)), 1e-3))

    g = gray.astype(np.int16)
    # Every fourth row/column is plenty for a periodic profile and keeps big photos cheap.
    horizontal = np.abs(np.diff(g[::4, :], axis=1))
    vertical = np.abs(np.diff(g[:, ::4], axis=0)).T
    return (fold(horizontal) + fold(vertical)) / 2


def sharpness(gray: np.ndarray, face: Landmarks) -> float:
    """Laplacian energy of the face at a fixed scale, relative to its contrast (scale-free)."""
    x, y, side, _ = face.box
    h, w = gray.shape
    x0, y0 = max(0, int(x + 0.15 * side)), max(0, int(y + 0.15 * side))
    x1, y1 = min(w, int(x + 0.85 * side)), min(h, int(y + 0.85 * side))
    crop = cv2.resize(gray[y0:y1, x0:x1], (SHARPNESS_SIDE, SHARPNESS_SIDE),
                      interpolation=cv2.INTER_AREA).astype(np.float32)
    lap = cv2.Laplacian(crop, cv2.CV_32F)
    return float(np.abs(lap).mean() / max(float(crop.std()), 1.0) * 100)


def skin_region(face: Landmarks, scale: float, shape: tuple[int, ...]) -> tuple[slice, slice]:
    """Skin area (forehead to mouth, cheek to cheek) in a copy scaled by `scale`."""
    (mx, my), (_, ny), ipd = face.eye_mid, face.nose_base, face.eye_distance
    x0, x1 = int((mx - 0.9 * ipd) * scale), int((mx + 0.9 * ipd) * scale)
    y0, y1 = int((my - 0.6 * ipd) * scale), int((ny + 0.6 * (ny - my)) * scale)
    h, w = shape[:2]
    return slice(max(0, y0), min(h, y1)), slice(max(0, x0), min(w, x1))


def background_mask(geo: HeadGeometry, scale: float, shape: tuple[int, ...]) -> np.ndarray:
    """Pixels above the shoulders and outside a generous ellipse around head and hair."""
    h, w = shape[:2]
    head = geo.height * scale
    cy = (geo.crown * scale) + head / 2
    cx = geo.centre_x * scale
    # Hair reaches about 0.9 head heights across; the margin keeps its edge out of the sample.
    ax, ay = 0.5 * head * 1.0, 0.5 * head * 1.12
    yy, xx = np.ogrid[:h, :w]
    outside = ((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2 > 1.0
    above_shoulders = yy < int(geo.chin * scale - 0.1 * head)
    mask = np.asarray(outside & above_shoulders)
    if mask.sum() < 50:
        # Head fills the frame: fall back to the top corners, the last place background shows.
        corner = max(2, int(0.06 * w))
        mask[:corner, :corner] = mask[:corner, -corner:] = True
    return mask


@dataclass(frozen=True)
class SkinTone:
    """Face luminance statistics and mean chroma in CIELAB (8-bit OpenCV scaling)."""

    mean: float
    clipped: float
    spread: float
    left_right_imbalance: float
    hue_deg: float
    chroma: float


def skin_tone(lab: np.ndarray, region: tuple[slice, slice], split_x: int) -> SkinTone:
    """Exposure, contrast, side balance and colour of the skin region of a Lab image."""
    rows, cols = region
    lum = lab[rows, cols, 0]
    p5, p95 = np.percentile(lum, [5, 95])
    split = max(1, min(lum.shape[1] - 1, split_x - cols.start))
    left, right = float(lum[:, :split].mean()), float(lum[:, split:].mean())
    a = float(lab[rows, cols, 1].mean()) - 128
    b = float(lab[rows, cols, 2].mean()) - 128
    return SkinTone(
        mean=float(lum.mean()),
        clipped=float(((lum >= 250) | (lum <= 5)).mean()),
        spread=float(p95 - p5),
        left_right_imbalance=abs(left - right) / max(left, right, 1.0),
        hue_deg=float(np.degrees(np.arctan2(b, a))),
        chroma=float(np.hypot(a, b)),
    )


@dataclass(frozen=True)
class Backdrop:
    """Background texture, brightness and colour over the background mask."""

    texture: float
    luminance: float
    chroma: float


def backdrop(lab: np.ndarray, mask: np.ndarray) -> Backdrop:
    """Measures of the background pixels of a Lab image; medians resist stray hair."""
    lum = lab[..., 0].astype(np.uint8)
    texture = np.abs(cv2.Laplacian(cv2.GaussianBlur(lum, (3, 3), 0), cv2.CV_32F))
    a = float(np.median(lab[..., 1][mask])) - 128
    b = float(np.median(lab[..., 2][mask])) - 128
    return Backdrop(
        texture=float(texture[mask].mean()),
        luminance=float(np.median(lab[..., 0][mask])),
        chroma=float(np.hypot(a, b)),
    )
