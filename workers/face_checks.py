"""Face checks at validation: 1:1 against the registry's photo, 1:N against kept faces (issue 10)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from enrollment.photo.descriptor import (
    SAME_PERSON_DISTANCE,
    NoSingleFace,
    distance,
    face_descriptor,
    from_bytes,
    to_bytes,
)
from enrollment.photo.intake import ImageRejected, decode_image
from enrollment.photo.search import FaceIndex, NumpyIndex, make_index
from issuance.biometrics import load_biometric
from issuance.face_descriptors import count_descriptors, load_descriptors, store_descriptor
from issuance.models import BiometricKind
from issuance.runtime import Runtime
from issuance.states import ApplicationState
from issuance.vault import Vault
from workers.checks import Decision, Reason, Severity


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
                                  Severity.EXCEPTION, other_application=hit.key))
    return reasons


class FaceGallery:
    """The 1:N index of kept descriptors, caught up from the database before each use.

    It reads the rows past the highest id it holds; when the table then holds another number of
    rows than the index (rows deleted, a database restored), it rebuilds the index whole.
    """

    def __init__(self, kind: str = "numpy") -> None:
        self.kind = kind
        self._reset()

    def _reset(self) -> None:
        self.index = make_index(self.kind)
        self.owners: dict[int, str] = {}
        self._last_row = 0

    def refresh(self, session: Session, vault: Vault) -> None:
        """Add the descriptors stored since the last refresh, or rebuild when they disagree."""
        self._load(session, vault)
        if len(self.index) != count_descriptors(session):
            self._reset()
            self._load(session, vault)

    def _load(self, session: Session, vault: Vault) -> None:
        rows = load_descriptors(session, vault, self._last_row)
        if rows:
            self.index.add([r[1] for r in rows], np.stack([from_bytes(r[3]) for r in rows]))
            self.owners.update({app_id: number for _, app_id, number, _ in rows})
            self._last_row = rows[-1][0]


_galleries: dict[tuple[str, str], FaceGallery] = {}


def gallery(rt: Runtime) -> FaceGallery:
    """This process's gallery for the runtime's database (one per database URL and search kind)."""
    kind = str(rt.settings.extra.get("face_search", "numpy"))
    key = (rt.settings.effective_database_url, kind)
    if key not in _galleries:
        _galleries[key] = FaceGallery(kind)
    return _galleries[key]


def enabled(rt: Runtime) -> bool:
    """Face matching runs when the `face_matching` setting is on (off by default)."""
    return bool(rt.settings.extra.get("face_matching", False))


def _descriptors(session: Session, vault: Vault, ids: Iterable[int]) -> dict[int, np.ndarray]:
    out = {}
    for app_id in ids:
        data = load_biometric(session, vault, app_id, BiometricKind.PHOTO)
        if data is None:
            continue
        try:
            out[app_id] = face_descriptor(decode_image(data))
        except (ImageRejected, NoSingleFace):
            continue  # the photo checks report this photo; there is no face to match
    return out


def face_review(rt: Runtime, national_numbers: dict[int, str], decisions: dict[int, Decision]
                ) -> tuple[dict[int, Decision], dict[int, np.ndarray]]:
    """Add FACE_DUPLICATE / FACE_MISMATCH reasons; an approval with one becomes an exception.

    Returns the new decisions and the descriptors computed, for `remember_faces` to keep.
    """
    if not enabled(rt):
        return decisions, {}
    threshold = float(rt.settings.extra.get("face_match_distance", SAME_PERSON_DISTANCE))
    g = gallery(rt)
    with rt.db.session() as s:
        g.refresh(s, rt.vault)
        descriptors = _descriptors(s, rt.vault, decisions)
    out = dict(decisions)
    # Faces in this same batch are not kept yet: match them against each other too, oldest first.
    batch, batch_owners = NumpyIndex(), dict[int, str]()
    for app_id, vector in sorted(descriptors.items()):
        facts = FaceFacts(app_id, national_numbers[app_id], vector)
        reasons = check_face(facts, g.index, g.owners, threshold) + check_face(
            facts, batch, batch_owners, threshold)
        batch.add([app_id], vector)
        batch_owners[app_id] = national_numbers[app_id]
        if reasons:
            d = decisions[app_id]
            outcome = ApplicationState.EXCEPTION if d.outcome == ApplicationState.APPROVED else d.outcome
            out[app_id] = Decision(outcome, [*d.reasons, *reasons])
    return out, descriptors


def remember_faces(session: Session, rt: Runtime, decisions: dict[int, Decision],
                   descriptors: dict[int, np.ndarray]) -> None:
    """Keep the descriptors of applications not rejected (sealed), in the outcome's transaction."""
    for app_id, vector in descriptors.items():
        if decisions[app_id].outcome != ApplicationState.REJECTED:
            store_descriptor(session, rt.vault, app_id, to_bytes(vector), "validator")
