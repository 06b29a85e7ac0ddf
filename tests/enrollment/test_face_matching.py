"""Face matching: 1:1 descriptors on real faces, 1:N search (numpy and FAISS), FACE_DUPLICATE."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from photo_corpus import RealFaces
from PIL import Image

from enrollment.cli import photo
from enrollment.photo.crop import chip_jpeg, make_token_image
from enrollment.photo.descriptor import (
    NoSingleFace,
    compare,
    face_descriptor,
    from_bytes,
    to_bytes,
    verify_holder,
)
from enrollment.photo.samples import Frame
from enrollment.photo.search import FaissIndex, NumpyIndex, make_index
from issuance.db import Database
from issuance.face_descriptors import load_descriptors, store_descriptor
from issuance.models import Applicant, FaceDescriptor, Role
from issuance.vault import Vault
from tests.factories import make_applications, make_user
from workers.face_checks import FaceFacts, check_face


@pytest.fixture(scope="module")
def descriptors(real_faces: dict[str, RealFaces]) -> dict[str, np.ndarray]:
    out = {}
    for name, faces in real_faces.items():
        out[f"{name}_a"] = face_descriptor(faces.good(Frame(width=600, height=800)))
        # Another sitting: smaller, mirrored, another backdrop, re-encoded.
        other = faces.good(Frame(width=413, height=531), colour=(212, 214, 216))[:, ::-1].copy()
        out[f"{name}_b"] = face_descriptor(Image.fromarray(other))
    return out


def test_same_person_matches_and_others_do_not(descriptors: dict[str, np.ndarray]) -> None:
    names = sorted({k[:-2] for k in descriptors})
    assert len(names) >= 3
    for a in names:
        assert compare(descriptors[f"{a}_a"], descriptors[f"{a}_b"]).same_person
        for b in names:
            if a != b:
                assert not compare(descriptors[f"{a}_a"], descriptors[f"{b}_b"]).same_person


def test_descriptor_needs_one_face() -> None:
    with pytest.raises(NoSingleFace):
        face_descriptor(np.full((400, 300, 3), 230, np.uint8))


def test_descriptor_bytes_round_trip_and_length_rule(descriptors: dict[str, np.ndarray]) -> None:
    v = descriptors["takeo_a"]
    assert np.array_equal(from_bytes(to_bytes(v)), v)
    with pytest.raises(ValueError, match="512 bytes"):
        from_bytes(b"\x00" * 100)


def test_numpy_and_faiss_give_the_same_neighbours() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(5000, 128)).astype(np.float32)
    keys = range(100, 5100)
    exact, faiss_index = NumpyIndex(), FaissIndex()
    exact.add(keys, vectors)
    faiss_index.add(keys, vectors)
    for q in vectors[:20] + rng.normal(scale=0.01, size=(20, 128)).astype(np.float32):
        a, b = exact.search(q, k=5), faiss_index.search(q, k=5)
        assert [h.key for h in a] == [h.key for h in b]
        assert np.allclose([h.distance for h in a], [h.distance for h in b], atol=1e-3)
    assert exact.search(vectors[3], k=1)[0].key == 103 and len(faiss_index) == 5000


def test_index_rejects_bad_vectors_and_kinds() -> None:
    with pytest.raises(ValueError, match="finite"):
        NumpyIndex().add([1], np.full((1, 128), np.nan, np.float32))
    with pytest.raises(ValueError, match="face_search"):
        make_index("annoy")


@pytest.mark.parametrize("kind", ["numpy", "faiss"])
def test_same_face_under_two_national_numbers_is_a_duplicate(
        kind: str, db: Database, descriptors: dict[str, np.ndarray]) -> None:
    vault = Vault(os.urandom(32))
    clerk = make_user(db, "clerk1", Role.CLERK)
    first, second, third = make_applications(db, clerk, count=3)
    with db.transaction() as s:
        store_descriptor(s, vault, first, to_bytes(descriptors["grace_hopper_a"]), "test")
        store_descriptor(s, vault, third, to_bytes(descriptors["takeo_a"]), "test")
    with db.session() as s:
        numbers = {a.application_id: a.national_number for a in s.query(Applicant)}
        stored = load_descriptors(s, vault)
        assert {row[1] for row in stored} == {first, third}
    index = make_index(kind)
    index.add([r[1] for r in stored], np.stack([from_bytes(r[3]) for r in stored]))
    owners = {app_id: number for _, app_id, number, _ in stored}
    assert numbers[second] != numbers[first]
    # The same face comes back in a new application under another national number.
    same = FaceFacts(second, numbers[second], descriptors["grace_hopper_b"])
    reasons = check_face(same, index, owners)
    assert [r.code for r in reasons] == ["FACE_DUPLICATE"] and str(first) in reasons[0].message
    # A different person is not matched; the same person under the same number (renewal) is not either.
    assert check_face(FaceFacts(second, numbers[second], descriptors["astronaut_b"]), index, owners) == []
    assert check_face(FaceFacts(second, numbers[first], descriptors["grace_hopper_b"]), index, owners) == []


def test_registry_photo_mismatch(descriptors: dict[str, np.ndarray]) -> None:
    index = NumpyIndex()
    wrong = FaceFacts(1, "1", descriptors["astronaut_a"], reference=descriptors["takeo_b"])
    assert [r.code for r in check_face(wrong, index, {})] == ["FACE_MISMATCH"]
    right = FaceFacts(1, "1", descriptors["astronaut_a"], reference=descriptors["astronaut_b"])
    assert check_face(right, index, {}) == []


def test_descriptors_are_sealed_at_rest(db: Database, descriptors: dict[str, np.ndarray]) -> None:
    vault = Vault(os.urandom(32))
    clerk = make_user(db, "clerk1", Role.CLERK)
    (app_id,) = make_applications(db, clerk, count=1)
    clear = to_bytes(descriptors["takeo_a"])
    with db.transaction() as s:
        store_descriptor(s, vault, app_id, clear, "test")
    with db.session() as s:
        blob = s.query(FaceDescriptor).one().ciphertext
    assert clear not in blob and len(blob) > len(clear)


def test_approximate_faiss_finds_enrolled_faces() -> None:
    rng = np.random.default_rng(11)
    n = FaissIndex.MIN_TRAIN + 1000
    vectors = rng.normal(size=(n, 128)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = make_index("faiss-ivf")
    index.add(range(n), vectors)
    picks = rng.choice(n, size=50, replace=False)
    found = [index.search(vectors[i] + rng.normal(scale=0.02, size=128).astype(np.float32), k=1)[0].key
             for i in picks]
    assert np.mean(np.array(found) == picks) >= 0.96
    assert len(index) == n


def test_holder_against_the_chip_portrait(real_faces: dict[str, RealFaces]) -> None:
    chip = chip_jpeg(make_token_image(Image.fromarray(real_faces["takeo"].good())))
    live_same = real_faces["takeo"].good(Frame(width=600, height=800), colour=(220, 222, 224))
    assert verify_holder(live_same, chip).same_person
    assert not verify_holder(real_faces["grace_hopper"].good(), chip).same_person


def test_photo_compare_command(real_faces: dict[str, RealFaces], tmp_path: Path) -> None:
    files = {}
    for name, arr in (("a", real_faces["astronaut"].good()), ("a2", real_faces["astronaut"].good(
            Frame(width=413, height=531))[:, ::-1].copy()), ("g", real_faces["grace_hopper"].good()),
                      ("blank", np.full((300, 240, 3), 230, np.uint8))):
        files[name] = tmp_path / f"{name}.png"
        Image.fromarray(arr).save(files[name])
    runner = CliRunner()
    same = runner.invoke(photo, ["compare", str(files["a"]), str(files["a2"])])
    assert same.exit_code == 0 and "same person" in same.output
    other = runner.invoke(photo, ["compare", str(files["a"]), str(files["g"])])
    assert other.exit_code == 1 and "different people" in other.output
    assert runner.invoke(photo, ["compare", str(files["a"]), str(files["blank"])]).exit_code == 2
