"""The demo's sample faces: distinct people under the descriptor, each a compliant photo."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from enrollment.photo.checks import assess_photo
from enrollment.photo.composites import DEMO_FACES, another_sitting, demo_faces
from enrollment.photo.descriptor import SAME_PERSON_DISTANCE, distance, face_descriptor
from enrollment.photo.intake import decode_image
from issuance.demo import population
from issuance.demo.run import FACE_DUPLICATE_LABEL, faces_fit, give_faces, sample_cases

MARGIN = 0.05  # distinct faces stay this far beyond the threshold


@pytest.fixture(scope="module")
def faces() -> list[bytes]:
    return demo_faces()


@pytest.fixture(scope="module")
def vectors(faces: list[bytes]) -> list[np.ndarray]:
    return [face_descriptor(decode_image(f)) for f in faces]


def test_every_two_demo_faces_are_different_people(vectors: list[np.ndarray]) -> None:
    assert len(vectors) == len(DEMO_FACES) == 8
    closest = min(distance(a, b) for a, b in itertools.combinations(vectors, 2))
    assert closest >= SAME_PERSON_DISTANCE + MARGIN


def test_demo_faces_pass_the_photo_checks(faces: list[bytes]) -> None:
    for i, face in enumerate(faces):
        failed = [c.name for c in assess_photo(decode_image(face)).checks if not c.passed]
        assert failed == [], (i, failed)


def test_another_sitting_is_the_same_person_and_no_other(
        faces: list[bytes], vectors: list[np.ndarray]) -> None:
    again = face_descriptor(decode_image(another_sitting(faces[0])))
    assert distance(again, vectors[0]) < SAME_PERSON_DISTANCE
    assert min(distance(again, v) for v in vectors[1:]) >= SAME_PERSON_DISTANCE


def test_approved_applicants_get_distinct_faces_and_one_wears_anothers(faces: list[bytes]) -> None:
    citizens = population.generate(400, seed=9303)
    cases = sample_cases(citizens, 6)
    references = give_faces(cases, faces)
    by_label = {c.label: c for c in cases}
    kept = [c for c in cases if c.label in ("citizen", "renewal", "name nearly matches")]
    assert len({c.face for c in kept}) == len(kept) == 8
    assert by_label["duplicate"].face == cases[0].face
    dup = by_label[FACE_DUPLICATE_LABEL]
    assert dup.citizen.national_number != cases[0].citizen.national_number
    assert dup.citizen.national_number not in references and dup.face != cases[0].face
    assert all(references[c.citizen.national_number] == c.face for c in kept)


def test_a_larger_demo_has_no_face_duplicate_case() -> None:
    citizens = population.generate(400, seed=9303)
    assert faces_fit(6) and not faces_fit(7)
    assert FACE_DUPLICATE_LABEL not in {c.label for c in sample_cases(citizens, 7)}
