"""1:1 at validation: the applicant's face against the registry's reference photo (FACE_MISMATCH)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from enrollment.photo.samples import ASTRONAUT, GRACE_HOPPER, TAKEO, Frame, Portraits, jpeg
from issuance.config import Settings
from issuance.models import Application, User
from issuance.registry.client import HttpRegistry, InProcessRegistry, RegistryRejected
from issuance.registry.service import create_registry_app
from issuance.registry.store import RegistryStore
from issuance.runtime import Runtime
from tests.workers.conftest import POPULATION, eligible
from tests.workers.face_helpers import outcome, submit_with_faces
from workers import validation

CITIZENS = eligible(4, skip=50)  # hopper, takeo, no photo, hopper again
SITTING = Frame(width=413, height=531)


@pytest.fixture(scope="module")
def faces() -> dict[str, bytes]:
    hopper = Portraits(GRACE_HOPPER)
    return {
        # The registry's photo and the counter's are two sittings: framing, backdrop, side differ.
        "hopper_registry": jpeg(hopper.good(Frame(width=600, height=771, head_ratio=0.73), (246, 246, 246))),
        "hopper": jpeg(hopper.good(SITTING, (214, 216, 218))[:, ::-1].copy()),
        "takeo_registry": jpeg(Portraits(TAKEO).good(Frame(width=600, height=771))),
        "astronaut": jpeg(Portraits(ASTRONAUT).good(SITTING)),
        "takeo": jpeg(Portraits(TAKEO).good(SITTING, (214, 216, 218))),
    }


@pytest.fixture(scope="module")
def photo_registry(tmp_path_factory: pytest.TempPathFactory, faces: dict[str, bytes]) -> str:
    """The test population, with reference photos of the first two test citizens."""
    url = f"sqlite:///{tmp_path_factory.mktemp('registry-photos') / 'registry.db'}"
    store = RegistryStore(url)
    store.seed(POPULATION)
    store.seed_photos({CITIZENS[0].national_number: faces["hopper_registry"],
                       CITIZENS[1].national_number: faces["takeo_registry"],
                       CITIZENS[3].national_number: faces["hopper_registry"]})
    store.close()
    return url


def _runtime(vsettings: Settings, registry_url: str, **extra: object) -> Runtime:
    return Runtime(dataclasses.replace(vsettings, registry_database_url=registry_url,
                                       extra={**vsettings.extra, "face_matching": True, **extra}))


@pytest.fixture
def frt(vsettings: Settings, photo_registry: str) -> Iterator[Runtime]:
    rt = _runtime(vsettings, photo_registry)
    yield rt
    rt.close()


def test_registry_flags_and_serves_reference_photos(photo_registry: str, faces: dict[str, bytes]) -> None:
    store = RegistryStore(photo_registry)
    numbers = [c.national_number for c in CITIZENS]
    records = store.lookup(numbers)
    assert [records[n].has_photo for n in numbers] == [True, True, False, True]  # type: ignore[union-attr]
    client = TestClient(create_registry_app(store))
    got = client.get(f"/v1/citizens/{numbers[0]}/photo")
    assert (got.status_code, got.headers["content-type"]) == (200, "image/jpeg")
    assert got.content == faces["hopper_registry"]
    assert client.get(f"/v1/citizens/{numbers[2]}/photo").status_code == 404
    for junk in ("0000000000", "x" * 300, "%00", "1;DROP TABLE"):
        assert client.get(f"/v1/citizens/{junk}/photo").status_code == 404
    assert client.get(f"/v1/citizens/{numbers[1]}").json()["has_photo"] is True
    # The HTTP client and the in-process one give the same photo; none is None.
    http = HttpRegistry("http://registry", transport=client._transport, retries=0)
    assert http.reference_photo(numbers[0]) == InProcessRegistry(store).reference_photo(numbers[0])
    assert http.reference_photo(numbers[2]) is None and http.lookup_many([numbers[0]])[numbers[0]].has_photo
    store.close()


def test_same_person_passes_and_another_is_a_face_mismatch(frt: Runtime, clerk: User,
                                                          faces: dict[str, bytes]) -> None:
    same, other, unpictured = submit_with_faces(frt, clerk, CITIZENS[:3],
                                                [faces["hopper"], faces["astronaut"], faces["takeo"]])
    validation.validate(frt, [same, other, unpictured])
    assert outcome(frt, same) == ("approved", [])
    assert outcome(frt, other) == ("exception", ["FACE_MISMATCH"])
    assert outcome(frt, unpictured) == ("approved", [])  # no reference photo: no 1:1 check
    with frt.db.session() as s:
        reason = s.get_one(Application, other).outcome_reasons[0]  # type: ignore[index]
    assert reason["details"]["threshold"] == 0.6 and reason["details"]["distance"] >= 0.6
    assert "registry's photo" in reason["message"]


def test_mismatch_threshold_is_a_setting(vsettings: Settings, photo_registry: str, clerk: User,
                                         faces: dict[str, bytes]) -> None:
    # A 1:1 limit so strict that even the same woman at another sitting is held.
    rt = _runtime(vsettings, photo_registry, face_mismatch_distance=0.05)
    try:
        (app_id,) = submit_with_faces(rt, clerk, CITIZENS[3:4], [faces["hopper"]])
        validation.validate(rt, [app_id])
        assert outcome(rt, app_id) == ("exception", ["FACE_MISMATCH"])
    finally:
        rt.close()


@pytest.mark.parametrize("junk", ["lots", -1, 0, None, "nan"])
def test_junk_threshold_names_the_setting(vsettings: Settings, photo_registry: str, clerk: User,
                                          faces: dict[str, bytes], junk: object) -> None:
    rt = _runtime(vsettings, photo_registry, face_mismatch_distance=junk)
    try:
        ids = submit_with_faces(rt, clerk, CITIZENS[:1], [faces["hopper"]])
        with pytest.raises(ValueError, match="face_mismatch_distance must be a positive distance"):
            validation.validate(rt, ids)
    finally:
        rt.close()


def test_without_face_matching_the_registry_photo_is_not_fetched(
        vsettings: Settings, photo_registry: str, clerk: User, faces: dict[str, bytes]) -> None:
    rt = Runtime(dataclasses.replace(vsettings, registry_database_url=photo_registry))
    try:
        (app_id,) = submit_with_faces(rt, clerk, CITIZENS[1:2], [faces["astronaut"]])
        validation.validate(rt, [app_id])
        assert outcome(rt, app_id) == ("approved", [])
    finally:
        rt.close()


class _PhotoFails:
    """The registry answers lookups but refuses one photo."""

    def __init__(self, inner: InProcessRegistry) -> None:
        self.inner = inner

    def lookup_many(self, numbers: list[str], *, retry: bool = True) -> object:
        return self.inner.lookup_many(numbers)

    def healthy(self) -> bool:
        return True

    def reference_photo(self, national_number: str) -> bytes | None:
        raise RegistryRejected("registry refused the photo (403)")


def test_a_photo_the_registry_fails_to_give_holds_only_its_application(
        frt: Runtime, clerk: User, faces: dict[str, bytes]) -> None:
    pictured, unpictured = submit_with_faces(frt, clerk, CITIZENS[:3:2], [faces["hopper"], faces["takeo"]])
    frt.__dict__["registry"] = _PhotoFails(frt.registry)  # type: ignore[arg-type]
    result = validation.validate(frt, [pictured, unpictured])
    assert result.waiting == [pictured]
    assert outcome(frt, pictured)[0] == "validating"
    assert outcome(frt, unpictured) == ("approved", [])


def test_http_registry_photo_refusal_is_rejected(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, text="no")

    client = HttpRegistry("http://registry", transport=httpx.MockTransport(refuse), retries=0)
    with pytest.raises(RegistryRejected, match="403"):
        client.reference_photo("1")
