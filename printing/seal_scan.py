"""Find and read the seal's QR code in a photo or scan of a card (OpenCV's QR detector)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from printing.seal import SealError

MAX_PIXELS = 40_000_000


def load_grey(path: Path) -> np.ndarray:
    """A scan as a grey array; the pixel count is checked from the header before decoding."""
    data = np.fromfile(str(path), dtype=np.uint8)
    try:
        with Image.open(io.BytesIO(data.tobytes())) as header:
            width, height = header.size
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise SealError(f"image {path.name}: not an image that can be read") from exc
    if width * height > MAX_PIXELS:
        raise SealError(f"image {path.name}: {width} x {height} is more than {MAX_PIXELS} pixels")
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise SealError(f"image {path.name}: not an image that can be read (truncated or corrupt)")
    return image


def _variants(grey: np.ndarray) -> Iterator[tuple[np.ndarray, float]]:
    """The scan as is, then cleaned up the ways a camera or scanner image usually needs (and its scale)."""
    yield grey, 1.0
    smooth = cv2.GaussianBlur(grey, (3, 3), 0)
    yield cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1], 1.0
    if max(grey.shape) < 2500:
        yield cv2.resize(grey, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC), 2.0
    yield cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 31, 5), 1.0


def find_seal(grey: np.ndarray) -> tuple[str, np.ndarray]:
    """The first QR code OpenCV finds: its text and four corners (clockwise from the top left)."""
    detectors = (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco())
    for variant, scale in _variants(grey):
        for detector in detectors:
            text, points, _ = detector.detectAndDecode(variant)
            if text and points is not None:
                return str(text), np.asarray(points, dtype=np.float32).reshape(4, 2) / scale
    raise SealError("image: no readable QR code found")


def find_seal_text(grey: np.ndarray) -> str:
    """The text of the first QR code OpenCV finds, trying a few clean-ups of the image."""
    return find_seal(grey)[0]
