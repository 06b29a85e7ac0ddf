"""Compliant portraits and defects of each real person (enrollment.photo.samples.PEOPLE).

Goods: 600x800 and 413x531, each as JPEG q85 and q95, PNG, CMYK JPEG, 16-bit PNG and an
EXIF-rotated JPEG. Defects: too small, off-centre, rolled, turned, dark, blurred, busy
background, mouth open, eyes closed; each made from a compliant frame.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

from enrollment.photo.landmarks import find_landmarks
from enrollment.photo.samples import PLAIN_BG, Frame, Person, Portraits, composite, frame, jpeg, png

SIZES = ((600, 800), (413, 531))
ENCODINGS = ("jpeg85", "jpeg95", "png", "cmyk", "png16", "exif_rotated")


def _jpeg_image(img: Image.Image, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kwargs)
    return buf.getvalue()


def _png16(arr: np.ndarray) -> bytes:
    wide = arr.astype(np.uint16) * 257
    if np.array_equal(arr[..., 0], arr[..., 2]) and np.array_equal(arr[..., 0], arr[..., 1]):
        ok, data = cv2.imencode(".png", wide[..., 0])
    else:
        ok, data = cv2.imencode(".png", cv2.cvtColor(wide, cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


def _exif_rotated(arr: np.ndarray) -> bytes:
    # Stored lying on its side, as a phone held sideways writes it; orientation 6 turns it upright.
    sideways = Image.fromarray(np.ascontiguousarray(np.rot90(arr, k=1)))
    exif = Image.Exif()
    exif[0x0112] = 6
    return _jpeg_image(sideways, quality=92, exif=exif.tobytes())


def encodings(arr: np.ndarray) -> dict[str, bytes]:
    """The same photo as each file encoding a counter meets."""
    return {
        "jpeg85": jpeg(arr, 85), "jpeg95": jpeg(arr, 95), "png": png(arr),
        "cmyk": _jpeg_image(Image.fromarray(arr).convert("CMYK"), quality=95),
        "png16": _png16(arr), "exif_rotated": _exif_rotated(arr),
    }


def _turn(arr: np.ndarray, centre_x: float, radius: float, degrees: float,
          fill: tuple[int, int, int] = PLAIN_BG) -> np.ndarray:
    """Turn the head about a vertical axis: the face as a cylinder of `radius` pixels."""
    h, w = arr.shape[:2]
    theta = np.radians(degrees)
    u = np.arange(w, dtype=np.float64) - centre_x
    phi = np.arcsin(np.clip(u / radius, -1, 1))
    src = np.where(np.abs(u) < radius, radius * np.sin(phi - theta), u)
    # What turned round to the back of the head is hidden: the backdrop shows there.
    src[(np.abs(u) < radius) & (phi - theta < -np.pi / 2)] = -10 * w
    map_x = np.broadcast_to((src + centre_x).astype(np.float32), (h, w))
    map_y = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w))
    return cv2.remap(arr, np.ascontiguousarray(map_x), np.ascontiguousarray(map_y), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def _close_eyes(arr: np.ndarray, points: list[tuple[float, float]]) -> np.ndarray:
    """Paint the eyelids shut: skin inpainted over each eye, a dark lash line along its lower lid."""
    out = arr.copy()
    mask = np.zeros(arr.shape[:2], np.uint8)
    for eye in (points[36:42], points[42:48]):
        poly = np.array(eye, np.int32)
        width = int(np.ptp(poly[:, 0]))
        cv2.fillPoly(mask, [poly], 255)
        cv2.polylines(mask, [poly], True, 255, max(3, width // 6))
    out = cv2.inpaint(out, mask, 7, cv2.INPAINT_TELEA)
    for eye in (points[36:42], points[42:48]):
        lid = np.array([eye[0], eye[5], eye[4], eye[3]], np.int32)
        cv2.polylines(out, [lid], False, (60, 45, 40), max(2, int(np.ptp(lid[:, 0])) // 15))
    return out


def _open_mouth(arr: np.ndarray, points: list[tuple[float, float]]) -> np.ndarray:
    """Part the lips: a dark mouth cavity with the upper teeth showing."""
    out = arr.copy()
    left, right = np.array(points[60]), np.array(points[64])
    centre = (left + right) / 2 + np.array([0, 0.12 * np.linalg.norm(right - left)])
    width = float(np.linalg.norm(right - left))
    axes = (int(0.45 * width), int(0.3 * width))
    cv2.ellipse(out, (int(centre[0]), int(centre[1])), axes, 0, 0, 360, (45, 20, 20), -1)
    teeth = (int(0.38 * width), int(0.08 * width))
    cv2.ellipse(out, (int(centre[0]), int(centre[1] - axes[1] + teeth[1])), teeth, 0, 0, 360,
                (225, 220, 210), -1)
    return out


def moustache(arr: np.ndarray, points: list[tuple[float, float]], seed: int = 0) -> np.ndarray:
    """A dark, bristly moustache from under the nose to the upper lip (a compliant feature)."""
    out = arr.copy()
    nose, lip, left, right = points[33], points[51], points[48], points[54]
    top, bottom = int(nose[1] + 3), int(lip[1] + 2)
    x0, x1 = int(left[0] - 8), int(right[0] + 8)
    hair = 35 + np.random.default_rng(seed).normal(0, 18, (bottom - top, x1 - x0))
    hair = np.clip(cv2.GaussianBlur(hair.astype(np.float32), (0, 0), 0.8), 0, 255)
    out[top:bottom, x0:x1] = (hair[..., None] * np.array([1.0, 0.9, 0.8])).astype(np.uint8)
    return out


class RealFaces(Portraits):
    """One real person's compliant portraits and defects."""

    def __init__(self, person: Person) -> None:
        super().__init__(person)

    def goods(self) -> dict[str, bytes]:
        """name -> file bytes for every size and encoding of a compliant portrait."""
        out = {}
        for width, height in SIZES:
            arr = self.good(Frame(width=width, height=height))
            for kind, data in encodings(arr).items():
                out[f"{self.person.name}_{width}x{height}_{kind}"] = data
        return out

    def defects(self) -> dict[str, tuple[str, np.ndarray]]:
        """name -> (the check expected to catch it, the photo)."""
        spec = Frame(width=600, height=800)
        base = self.good(spec)
        gray = cv2.cvtColor(base, cv2.COLOR_RGB2GRAY)
        points = list(find_landmarks(gray, "68")[0].points)
        head = spec.head_ratio * spec.height

        def tone(fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
            return np.clip(fn(base.astype(np.float32)), 0, 255).astype(np.uint8)

        busy = _busy_background(self.img.shape)
        name = self.person.name
        return {
            f"{name}_too_small": ("head_height", self.good(Frame(width=600, height=800, head_ratio=0.55,
                                                                  top_margin=0.15))),
            f"{name}_off_centre": ("centring", self.good(Frame(width=600, height=800, centre_x=0.36))),
            f"{name}_rolled": ("roll", self.good(Frame(width=600, height=800, roll_deg=10))),
            f"{name}_turned": ("yaw", _turn(base, spec.width * spec.centre_x, 0.3 * head, 40)),
            f"{name}_dark": ("exposure", tone(lambda a: a * 0.35)),
            f"{name}_blurred": ("sharpness", cv2.GaussianBlur(base, (0, 0), 3.5)),
            f"{name}_busy_background": ("background_uniformity", frame(
                composite(self.img, self.alpha, busy), spec, PLAIN_BG, self.person)),
            f"{name}_mouth_open": ("mouth_closed", _open_mouth(base, points)),
            f"{name}_eyes_closed": ("eyes_open", _close_eyes(base, points)),
        }


def _busy_background(shape: tuple[int, ...]) -> np.ndarray:
    """A light, neutral but busy backdrop (brick wall texture from scikit-image)."""
    from skimage import data

    brick = cv2.resize(data.brick(), (shape[1], shape[0])).astype(np.float32)
    light = 150 + (brick - brick.mean()) * 1.6 + 40
    return np.repeat(np.clip(light, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
