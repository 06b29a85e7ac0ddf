"""The packaged dlib models (face-recognition-models), loaded once per thread and process.

Licences: the 5-point shape predictor and the ResNet face descriptor are public domain; the
68-point predictor was trained on iBUG 300-W, whose licence excludes commercial use.
"""

from __future__ import annotations

import threading
from importlib import resources
from typing import Any, Literal

import dlib

Predictor = Literal["5", "68"]
PREDICTOR_FILES: dict[str, str] = {
    "5": "shape_predictor_5_face_landmarks.dat",
    "68": "shape_predictor_68_face_landmarks.dat",
}
DESCRIPTOR_FILE = "dlib_face_recognition_resnet_model_v1.dat"
_local = threading.local()


class ModelMissing(RuntimeError):
    """The face-recognition-models package is not installed or lacks a model file."""


def model_path(name: str) -> str:
    """Filesystem path of one packaged model file."""
    try:
        path = resources.files("face_recognition_models").joinpath("models", name)
    except ModuleNotFoundError:
        raise ModelMissing("install face-recognition-models (dlib's packaged face models)") from None
    if not path.is_file():
        raise ModelMissing(f"face-recognition-models lacks {name}")
    return str(path)


def _cached(key: str, make: Any) -> Any:
    # dlib objects are not documented as thread-safe; one instance per thread (web workers).
    cache: dict[str, Any] = _local.__dict__.setdefault("models", {})
    if key not in cache:
        cache[key] = make()
    return cache[key]


def detector() -> Any:
    """dlib's HOG frontal face detector (built into dlib, no file)."""
    return _cached("hog", dlib.get_frontal_face_detector)


def shape_predictor(kind: str) -> Any:
    """The 5- or 68-point shape predictor."""
    if kind not in PREDICTOR_FILES:
        raise ValueError(f"photo_landmarks must be one of {sorted(PREDICTOR_FILES)}, not {kind!r}")
    return _cached(f"shape{kind}", lambda: dlib.shape_predictor(model_path(PREDICTOR_FILES[kind])))


def face_descriptor_model() -> Any:
    """The 128-d ResNet face descriptor (dlib_face_recognition_resnet_model_v1)."""
    return _cached("resnet", lambda: dlib.face_recognition_model_v1(model_path(DESCRIPTOR_FILE)))
