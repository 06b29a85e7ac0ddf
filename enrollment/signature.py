"""Signature intake: binarise a scan or pen-pad image, crop to the ink, fit the card's box."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

from enrollment.photo.intake import DEFAULT_LIMITS, IntakeLimits, decode_image

# Signature box on the card front at 300 dpi (about 30 x 10 mm).
SIGNATURE_BOX = (354, 118)
MARGIN = 4
# Specks smaller than this fraction of the ink are dust or scanner noise.
MIN_SPECK_FRACTION = 0.002


class SignatureRejected(ValueError):
    """No usable signature in the image; `reason` is for the clerk."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _ink_mask(gray: np.ndarray) -> np.ndarray:
    blurred = cv2.GaussianBlur(gray, (3, 3), 0)
    _, ink = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    # Background is the majority; light ink on a dark pad comes out inverted, so flip it.
    if ink.mean() > 127:
        ink = 255 - ink
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    total = stats[1:, cv2.CC_STAT_AREA].sum() if n > 1 else 0
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= max(2, MIN_SPECK_FRACTION * total)
    return np.asarray(keep[labels], dtype=np.uint8) * 255


def prepare_signature_image(image: Image.Image, box: tuple[int, int] = SIGNATURE_BOX) -> Image.Image:
    """Black ink on white, cropped to the ink and scaled to fit `box` (mode 'L', centred)."""
    gray = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2GRAY)
    if int(gray.max()) - int(gray.min()) < 40:
        raise SignatureRejected("no signature found: the image is blank")
    ink = _ink_mask(gray)
    ys, xs = np.nonzero(ink)
    if len(xs) == 0:
        raise SignatureRejected("no signature found: sign in the box with a dark pen")
    coverage = len(xs) / ink.size
    if coverage > 0.5:
        raise SignatureRejected("the image is mostly dark: scan the signature on white paper")
    cropped = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    width, height = box[0] - 2 * MARGIN, box[1] - 2 * MARGIN
    scale = min(width / cropped.shape[1], height / cropped.shape[0])
    size = (max(1, round(cropped.shape[1] * scale)), max(1, round(cropped.shape[0] * scale)))
    resized = cv2.resize(cropped, size, interpolation=cv2.INTER_AREA)
    canvas = np.full((box[1], box[0]), 255, np.uint8)
    x0, y0 = (box[0] - size[0]) // 2, (box[1] - size[1]) // 2
    # Anti-aliased edges keep thin strokes visible after scaling down.
    canvas[y0 : y0 + size[1], x0 : x0 + size[0]] = 255 - resized
    return Image.fromarray(canvas, "L")


def prepare_signature(
    data: bytes, box: tuple[int, int] = SIGNATURE_BOX, limits: IntakeLimits = DEFAULT_LIMITS
) -> bytes:
    """Uploaded signature bytes to a PNG fitting the card's signature box (safe decoding first)."""
    img = prepare_signature_image(decode_image(data, limits), box)
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()
