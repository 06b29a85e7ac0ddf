"""Sample portraits for the demo and for training: a real public-domain photo, made compliant.

Source: `enrollment/data/astronaut.png`, the official NASA portrait of Eileen Collins
(public domain), a pixel-identical copy of scikit-image's `skimage.data.astronaut()`. Its
studio background is busy; GrabCut separates the person, who is then framed on plain light
backgrounds in the ICAO geometry. Nothing is downloaded.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import cv2
import numpy as np
from PIL import Image

# Landmarks on the 512x512 source (pixels): crown and chin by eye, the eye line refined
# by mirror-matching the eyes (the head is tilted about 3 degrees).
EYE_LEFT = (202.0, 100.0)
EYE_RIGHT = (247.0, 102.3)
CROWN_Y = 15.0
CHIN_Y = 174.0
HEAD_HEIGHT = CHIN_Y - CROWN_Y
PLAIN_BG = (236, 236, 234)


def source() -> np.ndarray:
    """The astronaut portrait as an RGB uint8 array."""
    with resources.files("enrollment").joinpath("data/astronaut.png").open("rb") as fh:
        return np.ascontiguousarray(np.asarray(Image.open(fh).convert("RGB")))


def segment_person(img: np.ndarray) -> np.ndarray:
    """Soft person mask (float 0..1) by GrabCut seeded with the known head and body area."""
    h, w = img.shape[:2]
    mask = np.full((h, w), cv2.GC_BGD, np.uint8)
    mask[0:h, 20:375] = cv2.GC_PR_BGD
    cv2.ellipse(mask, (226, 100), (78, 92), 0, 0, 360, cv2.GC_PR_FGD, -1)
    cv2.rectangle(mask, (60, 200), (370, h - 1), cv2.GC_PR_FGD, -1)
    cv2.ellipse(mask, (224, 112), (40, 58), 0, 0, 360, cv2.GC_FGD, -1)
    cv2.rectangle(mask, (150, 300), (330, h - 1), cv2.GC_FGD, -1)
    # The dark collar ring and turtleneck join head and body; GrabCut alone cuts them away.
    cv2.ellipse(mask, (210, 225), (95, 62), 0, 0, 360, cv2.GC_FGD, -1)
    mask[:, :12] = cv2.GC_BGD
    mask[:8, :] = cv2.GC_BGD
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    # The rectangle is ignored when GrabCut starts from a mask.
    cv2.grabCut(cv2.cvtColor(img, cv2.COLOR_RGB2BGR), mask, (0, 0, 1, 1), bgd, fgd, 5,
                cv2.GC_INIT_WITH_MASK)
    hard = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 1.0, 0.0).astype(np.float32)
    # Keep the largest blob only and feather its edge so no halo outlines the person.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(hard.astype(np.uint8))
    if n > 1:
        biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        hard = (labels == biggest).astype(np.float32)
    return cv2.GaussianBlur(hard, (0, 0), 1.5)


def composite(img: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Person over a background of the same size (uint8 RGB)."""
    a = alpha[..., None]
    return (img.astype(np.float32) * a + background.astype(np.float32) * (1 - a)).astype(np.uint8)


def plain(shape: tuple[int, ...], colour: tuple[int, int, int]) -> np.ndarray:
    """A flat background."""
    return np.broadcast_to(np.array(colour, np.uint8), (shape[0], shape[1], 3)).copy()


@dataclass(frozen=True)
class Frame:
    """Where the head lands in the output photo."""

    width: int = 420
    height: int = 540
    head_ratio: float = 0.75
    top_margin: float = 0.06
    centre_x: float = 0.5
    roll_deg: float = 0.0


def frame(scene: np.ndarray, spec: Frame, fill: tuple[int, int, int]) -> np.ndarray:
    """Warp the source scene so the head matches `spec` (crown to chin = head_ratio of height)."""
    scale = spec.head_ratio * spec.height / HEAD_HEIGHT
    eye_mid = ((EYE_LEFT[0] + EYE_RIGHT[0]) / 2, (EYE_LEFT[1] + EYE_RIGHT[1]) / 2)
    # Destination of the eye midpoint follows from the crown position.
    dst_eye = (spec.centre_x * spec.width, spec.top_margin * spec.height + (eye_mid[1] - CROWN_Y) * scale)
    # Level the measured eye line first, then apply the requested roll.
    base_roll = np.degrees(np.arctan2(EYE_RIGHT[1] - EYE_LEFT[1], EYE_RIGHT[0] - EYE_LEFT[0]))
    m = cv2.getRotationMatrix2D(eye_mid, base_roll + spec.roll_deg, scale)
    m[0, 2] += dst_eye[0] - eye_mid[0]
    m[1, 2] += dst_eye[1] - eye_mid[1]
    return cv2.warpAffine(
        scene, m, (spec.width, spec.height), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT, borderValue=fill,
    )


def jpeg(arr: np.ndarray, quality: int = 92) -> bytes:
    """Encode RGB as JPEG bytes."""
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def png(arr: np.ndarray) -> bytes:
    """Encode RGB as PNG bytes."""
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


class Portraits:
    """The segmented source, ready to be framed on any background."""

    def __init__(self) -> None:
        self.img = source()
        self.alpha = segment_person(self.img)

    def on(self, colour: tuple[int, int, int]) -> np.ndarray:
        """The person over a flat background of `colour`, at source size."""
        return composite(self.img, self.alpha, plain(self.img.shape, colour))

    def good(self, spec: Frame = Frame(), colour: tuple[int, int, int] = PLAIN_BG) -> np.ndarray:
        """A compliant photo framed as `spec` on `colour`."""
        return frame(self.on(colour), spec, colour)


@lru_cache(maxsize=1)
def _portraits() -> Portraits:
    return Portraits()


# Light backgrounds and small framing changes, so sample applicants' photos differ.
_BACKGROUNDS = ((236, 236, 234), (246, 246, 246), (222, 224, 228), (240, 238, 232))
_HEAD_RATIOS = (0.74, 0.76, 0.75, 0.73, 0.77)


def sample_portrait(index: int, width: int = 600, height: int = 771) -> bytes:
    """JPEG of a compliant portrait; `index` picks background, framing and mirroring."""
    spec = Frame(width=width, height=height, head_ratio=_HEAD_RATIOS[index % len(_HEAD_RATIOS)],
                 centre_x=0.49 + 0.01 * (index % 3))
    arr = _portraits().good(spec, _BACKGROUNDS[index % len(_BACKGROUNDS)])
    if index % 2:
        arr = np.ascontiguousarray(arr[:, ::-1])
    return jpeg(arr, quality=92)
