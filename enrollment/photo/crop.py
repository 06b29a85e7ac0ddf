"""Compliant crop (ICAO 9303-3 35x45 mm geometry) and the chip JPEG for DG2 (ISO/IEC 19794-5)."""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
from PIL import Image

from enrollment.photo.geometry import head_geometry
from enrollment.photo.landmarks import Landmarks, find_landmarks
from enrollment.photo.measures import work_copy
from enrollment.photo.thresholds import DEFAULT_THRESHOLDS, Thresholds

# 35 x 45 mm at 300 dpi.
CROP_SIZE = (413, 531)
# Chin to crown 75% of the height, centre of the 70-80% band; crown 6% below the top edge.
TARGET_HEAD = 0.75
TARGET_CROWN = 0.06
# ISO/IEC 19794-5 token frontal image: 240 px wide keeps 60 px or more between the eyes.
CHIP_WIDTH = 240
# Token geometry (ISO/IEC 19794-5 §9.2): height = width / 0.75, eyes 0.25 W apart with their
# midpoint at (0.5 W, 0.6 W) from the top-left corner.
TOKEN_EYE_DISTANCE = 0.25
TOKEN_EYE_Y = 0.6
MAX_UPSCALE = 2.5


class CropError(ValueError):
    """The source photo cannot give a compliant crop; `reason` says what to re-take."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def make_compliant_crop(
    image: Image.Image,
    size: tuple[int, int] = CROP_SIZE,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Image.Image:
    """Level, scale and cut the photo so the head meets the ICAO 9303-3 35x45 geometry."""
    rgb, face = _single_face(image, thresholds)
    _, lab, work_scale = work_copy(rgb)
    geo = head_geometry(face, lab, work_scale)
    width, height = size
    scale = TARGET_HEAD * height / geo.height
    if scale > MAX_UPSCALE:
        raise CropError("the face is too small in the source photo for a sharp crop; move closer")
    eye_x, eye_y = geo.centre_x, geo.eye_y
    dst = (width / 2, TARGET_CROWN * height + (eye_y - geo.crown) * scale)
    m = cv2.getRotationMatrix2D((eye_x, eye_y), face.roll_deg, scale)
    m[0, 2] += dst[0] - eye_x
    m[1, 2] += dst[1] - eye_y
    # Replicating the border continues the plain background where the source ends.
    out = cv2.warpAffine(
        rgb, m, size, flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return Image.fromarray(out)


def _single_face(image: Image.Image, thresholds: Thresholds = DEFAULT_THRESHOLDS
                 ) -> tuple[np.ndarray, Landmarks]:
    rgb = np.asarray(image.convert("RGB"))
    faces = find_landmarks(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), thresholds.landmarks)
    if len(faces) != 1:
        raise CropError(f"need exactly one face to crop, found {len(faces)}")
    return rgb, faces[0]


def make_token_image(image: Image.Image, width: int = CHIP_WIDTH) -> Image.Image:
    """Token frontal image (ISO/IEC 19794-5 §9.2): eyes placed by the standard's fixed geometry."""
    rgb, face = _single_face(image)
    ipd, mid, roll = face.eye_distance, face.eye_mid, face.roll_deg
    height = round(width / 0.75)
    scale = TOKEN_EYE_DISTANCE * width / ipd
    m = cv2.getRotationMatrix2D(mid, roll, scale)
    m[0, 2] += width / 2 - mid[0]
    m[1, 2] += TOKEN_EYE_Y * width - mid[1]
    out = cv2.warpAffine(rgb, m, (width, height),
                         flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
                         borderMode=cv2.BORDER_REPLICATE)
    return Image.fromarray(out)


def _encode(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=True, subsampling=2)
    return buf.getvalue()


def chip_jpeg(portrait: Image.Image, budget: int = 20_000, width: int = CHIP_WIDTH) -> bytes:
    """Baseline JPEG for DG2 (ISO/IEC 19794-5), the best quality that fits `budget` bytes.

    Give it the token image (`make_token_image`); any other portrait is scaled to `width`.
    """
    img = portrait.convert("RGB")
    if img.width != width:
        img = img.resize((width, round(img.height * width / img.width)), Image.Resampling.LANCZOS)
    while True:
        lo, hi, best = 20, 95, b""
        while lo <= hi:
            q = (lo + hi) // 2
            data = _encode(img, q)
            if len(data) <= budget:
                best, lo = data, q + 1
            else:
                hi = q - 1
        if best:
            return best
        if img.width < 120:
            raise CropError(f"cannot fit the photo in {budget} bytes")
        # Quality 20 still too big: fewer pixels beat blockier ones for face matching.
        factor = math.sqrt(0.8)
        img = img.resize((round(img.width * factor), round(img.height * factor)),
                         Image.Resampling.LANCZOS)
