"""Synthetic sample identities for the demo: composites of the packaged real faces.

Only three real people ship with the project (`samples.PEOPLE`), and a demo needs more faces
than that which a descriptor tells apart. A composite takes one person's head (hair, outline,
skin) and puts another's eyes and brows or nose and mouth in it (warped triangle by triangle to
the host's landmarks, blended with Poisson cloning), then reshapes the face (eye spacing, nose
length, mouth and face width). `DEMO_FACES` lists composites chosen so that every two of them are
at least 0.65 apart under the dlib descriptor (one person is under 0.6); the test suite checks it.
Landmarks come from the 68-point predictor (non-commercial licence: the demo is an evaluation).
"""

from __future__ import annotations

import cv2
import numpy as np

from enrollment.photo.intake import decode_image
from enrollment.photo.landmarks import find_landmarks
from enrollment.photo.samples import ASTRONAUT, GRACE_HOPPER, PEOPLE, TAKEO, Frame, Person, Portraits, jpeg

# Landmark groups of the 68-point layout that a composite takes from a donor.
EYES = (*range(17, 27), *range(36, 48))
MOUTH = (*range(31, 36), *range(48, 68), 2, 14)
WHOLE = tuple(range(68))
CANVAS = Frame(width=600, height=771)
# Reshapes: eye spacing, nose length, mouth width, face width (fractions) and eye height (of face width).
SHAPES = (
    (0.15, 0.15, -0.2, 0.12, 0.03), (-0.15, -0.15, 0.2, -0.12, -0.03), (0.15, -0.15, 0.2, 0.12, -0.03),
    (-0.15, 0.15, -0.2, -0.12, 0.03), (0.18, 0.0, 0.0, -0.14, 0.0), (-0.18, 0.18, 0.2, 0.14, 0.0),
)

Recipe = tuple[Person, tuple[tuple[Person, tuple[int, ...]], ...], int | None]

# host, (donor, features) pasted in order, reshape index: every two at least 0.65 apart.
DEMO_FACES: tuple[Recipe, ...] = (
    (ASTRONAUT, ((GRACE_HOPPER, EYES), (TAKEO, MOUTH)), 3),
    (ASTRONAUT, ((TAKEO, EYES),), 1),
    (ASTRONAUT, ((GRACE_HOPPER, WHOLE),), 2),
    (GRACE_HOPPER, ((ASTRONAUT, WHOLE),), 2),
    (GRACE_HOPPER, ((TAKEO, EYES), (ASTRONAUT, MOUTH)), 3),
    (TAKEO, ((ASTRONAUT, WHOLE),), 5),
    (TAKEO, ((GRACE_HOPPER, EYES),), 4),
    (TAKEO, ((GRACE_HOPPER, MOUTH),), 1),
)


def landmarks68(rgb: np.ndarray) -> np.ndarray:
    """The 68 landmark points of the one face in an RGB image, as a (68, 2) float32 array."""
    faces = find_landmarks(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), "68")
    if len(faces) != 1:
        raise ValueError(f"a composite needs exactly one face, found {len(faces)}")
    return np.array(faces[0].points, np.float32)


def _triangles(points: np.ndarray, shape: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """Delaunay triangles over the points, as index triples."""
    h, w = shape[:2]
    subdiv = cv2.Subdiv2D((0, 0, w, h))
    for x, y in points:
        subdiv.insert((float(np.clip(x, 0, w - 1)), float(np.clip(y, 0, h - 1))))
    out = []
    for tri in np.asarray(subdiv.getTriangleList()).reshape(-1, 3, 2):
        near = [np.linalg.norm(points - corner, axis=1) for corner in tri]
        if all(d.min() <= 1.0 for d in near):
            a, b, c = (int(d.argmin()) for d in near)
            out.append((a, b, c))
    return out


def warp_to(donor: np.ndarray, donor_points: np.ndarray, target_points: np.ndarray,
            base: np.ndarray) -> np.ndarray:
    """The donor's face moved triangle by triangle onto the target layout, over `base`."""
    h, w = base.shape[:2]
    out = base.copy()
    for tri in _triangles(target_points, base.shape):
        idx = list(tri)
        m = cv2.getAffineTransform(donor_points[idx], target_points[idx])
        warped = cv2.warpAffine(donor, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(mask, target_points[idx].astype(np.int32), 1)
        out[mask > 0] = warped[mask > 0]
    return out


def paste(host: np.ndarray, host_points: np.ndarray, donor: np.ndarray, donor_points: np.ndarray,
          features: tuple[int, ...]) -> np.ndarray:
    """The donor's features (landmark indices) in the host's face, blended by Poisson cloning."""
    warped = warp_to(donor, donor_points, host_points, host)
    hull = cv2.convexHull(host_points[list(features)].astype(np.int32))
    drawn = np.zeros(host.shape[:2], np.uint8)
    cv2.fillConvexPoly(drawn, hull, 255)
    mask = cv2.erode(drawn, np.ones((9, 9) if features == WHOLE else (5, 5), np.uint8))
    x, y, w, h = cv2.boundingRect(hull)
    return cv2.seamlessClone(warped, host, mask, (x + w // 2, y + h // 2), cv2.NORMAL_CLONE)


def reshape(rgb: np.ndarray, points: np.ndarray, shape: tuple[float, ...]) -> np.ndarray:
    """Move the features smoothly: wider or narrower eyes, mouth and face, a longer or shorter nose."""
    spacing, nose, mouth, width, lift = shape
    h, w = rgb.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    cx = float(points[27:36, 0].mean())
    eye_y, chin_y = float(points[36:48, 1].mean()), float(points[8, 1])
    mouth_y = float(points[48:68, 1].mean())
    face_w = float(points[16, 0] - points[0, 0])
    mid_y = (eye_y + mouth_y) / 2

    def bump(y0: float, sy: float, sx: float) -> np.ndarray:
        return np.exp(-((ys - y0) / (sy * face_w)) ** 2 - ((xs - cx) / (sx * face_w)) ** 2)

    map_x = xs - (spacing * bump(eye_y, 0.12, 0.6) + mouth * bump(mouth_y, 0.1, 0.35)
                  + width * bump((eye_y + chin_y) / 2, 0.5, 0.7)) * (xs - cx)
    map_y = ys - nose * bump(mid_y, 0.25, 0.4) * (ys - mid_y) - lift * bump(eye_y, 0.1, 0.5) * face_w
    return cv2.remap(rgb, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_CUBIC,
                     borderMode=cv2.BORDER_REPLICATE)


class Composer:
    """Each real person framed once on the canvas, with landmarks, ready to be combined."""

    def __init__(self) -> None:
        self.faces = {p.name: Portraits(p).good(CANVAS) for p in PEOPLE}
        self.points = {name: landmarks68(img) for name, img in self.faces.items()}

    def make(self, recipe: Recipe) -> np.ndarray:
        """The composite face of one recipe, as an RGB array on the canvas."""
        host, donors, shape = recipe
        img = self.faces[host.name]
        for donor, features in donors:
            img = paste(img, self.points[host.name], self.faces[donor.name], self.points[donor.name],
                        features)
        return img if shape is None else reshape(img, landmarks68(img), SHAPES[shape])


def demo_faces() -> list[bytes]:
    """The demo's sample faces, one JPEG per distinct identity, in `DEMO_FACES` order."""
    composer = Composer()
    return [jpeg(composer.make(recipe), quality=92) for recipe in DEMO_FACES]


def another_sitting(face: bytes) -> bytes:
    """The same face photographed again: mirrored and re-encoded."""
    rgb = np.asarray(decode_image(face).convert("RGB"))[:, ::-1]
    return jpeg(np.ascontiguousarray(rgb), quality=88)
