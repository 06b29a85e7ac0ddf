"""Face checks at validation: 1:1 against the registry's photo, 1:N against enrolled faces (pure)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enrollment.photo.descriptor import SAME_PERSON_DISTANCE, distance
from enrollment.photo.search import FaceIndex
from workers.checks import Reason, Severity


@dataclass(frozen=True)
class FaceFacts:
    """What the face checks need about one application: its descriptor and the registry's, if any."""

    application_id: int
    national_number: str
    descriptor: np.ndarray
    reference: np.ndarray | None = None


def check_face(facts: FaceFacts, index: FaceIndex, owners: dict[int, str],
               threshold: float = SAME_PERSON_DISTANCE) -> list[Reason]:
    """FACE_MISMATCH when the registry's face differs; FACE_DUPLICATE when another identity has it.

    `owners` maps each enrolled application id to its national number; a hit under the same
    national number (a renewal) is not a duplicate.
    """
    reasons = []
    if facts.reference is not None:
        d = distance(facts.descriptor, facts.reference)
        if d >= threshold:
            reasons.append(Reason("FACE_MISMATCH", f"the face differs from the registry's photo "
                                  f"(distance {d:.2f}, limit {threshold:.2f})", Severity.EXCEPTION))
    for hit in index.search(facts.descriptor, k=10, max_distance=threshold):
        owner = owners.get(hit.key)
        if hit.key != facts.application_id and owner is not None and owner != facts.national_number:
            reasons.append(Reason("FACE_DUPLICATE", f"the same face is enrolled in application {hit.key} "
                                  f"under another national number (distance {hit.distance:.2f})",
                                  Severity.EXCEPTION))
    return reasons
