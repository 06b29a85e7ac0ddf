"""Face matching at validation: the same face under two national numbers is held as FACE_DUPLICATE."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from enrollment.photo.samples import GRACE_HOPPER, TAKEO, Frame, Portraits, jpeg
from issuance.applications import submit
from issuance.biometrics import ImageMeta, store_biometric
from issuance.config import Settings
from issuance.models import Application, BiometricKind, FaceDescriptor, User
from issuance.runtime import Runtime
from issuance.transitions import Actor
from tests.factories import enroll_citizens
from tests.workers.conftest import eligible
from workers import validation


@pytest.fixture(scope="module")
def photos() -> dict[str, bytes]:
    hopper, takeo = Portraits(GRACE_HOPPER), Portraits(TAKEO)
    return {
        "hopper": jpeg(hopper.good(Frame(width=413, height=531))),
        # The same woman at another sitting: other framing and backdrop, mirrored.
        "hopper_again": jpeg(hopper.good(Frame(width=413, height=531, head_ratio=0.73),
                                         colour=(214, 216, 218))[:, ::-1].copy()),
        "takeo": jpeg(takeo.good(Frame(width=413, height=531))),
    }


@pytest.fixture
def frt(vsettings: Settings) -> Iterator[Runtime]:
    rt = Runtime(dataclasses.replace(vsettings, extra={**vsettings.extra, "face_matching": True}))
    yield rt
    rt.close()


def _submitted(rt: Runtime, clerk: User, faces: list[bytes], skip: int) -> list[int]:
    ids = enroll_citizens(rt.db, rt.vault, clerk, eligible(len(faces), skip=skip),
                          submit_them=False, photo=False)
    with rt.db.transaction() as s:
        for app_id, data in zip(ids, faces, strict=True):
            store_biometric(s, rt.vault, app_id, BiometricKind.PHOTO, data, ImageMeta("image/jpeg", 413, 531),
                            "test", quality_passed=True)
            submit(s, app_id, Actor(clerk.username))
    return ids


def _outcome(rt: Runtime, app_id: int) -> tuple[str, list[str]]:
    with rt.db.session() as s:
        app = s.get_one(Application, app_id)
        return str(app.state), [r["code"] for r in app.outcome_reasons or []]


def test_second_enrolment_of_a_face_is_a_duplicate(frt: Runtime, clerk: User,
                                                   photos: dict[str, bytes]) -> None:
    (first,) = _submitted(frt, clerk, [photos["hopper"]], skip=20)
    validation.validate(frt, [first])
    assert _outcome(frt, first) == ("approved", [])
    second, other = _submitted(frt, clerk, [photos["hopper_again"], photos["takeo"]], skip=21)
    validation.validate(frt, [second, other])
    state, codes = _outcome(frt, second)
    assert (state, codes) == ("exception", ["FACE_DUPLICATE"])
    assert _outcome(frt, other) == ("approved", [])
    with frt.db.session() as s:
        app = s.get_one(Application, second)
        assert str(first) in app.outcome_reasons[0]["message"]  # type: ignore[index]
        kept = set(s.scalars(select(FaceDescriptor.application_id)))
    assert kept == {first, second, other}


def test_duplicates_in_one_batch_are_caught(frt: Runtime, clerk: User, photos: dict[str, bytes]) -> None:
    ids = _submitted(frt, clerk, [photos["takeo"], photos["hopper"], photos["hopper_again"]], skip=30)
    validation.validate(frt, ids)
    assert [_outcome(frt, i) for i in ids] == [
        ("approved", []), ("approved", []), ("exception", ["FACE_DUPLICATE"])]


def test_face_matching_is_off_by_default(vruntime: Runtime, clerk: User, photos: dict[str, bytes]) -> None:
    ids = _submitted(vruntime, clerk, [photos["hopper"], photos["hopper_again"]], skip=40)
    validation.validate(vruntime, ids)
    assert [_outcome(vruntime, i)[0] for i in ids] == ["approved", "approved"]
