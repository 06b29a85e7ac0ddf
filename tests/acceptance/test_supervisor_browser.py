"""Acceptance of the supervisor's screens in Debian's Chromium, in Arabic and in English.

A supervisor resolves an exception, creates a batch, watches its progress move (htmx, no reload)
while the test drives the station S1 on virtual cards and records the printing, revokes a card
from its page, and downloads the daily report whose figures are the database's. The app runs in
this process (uvicorn in a thread, lifespan off) on the test's database and embedded queue.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, update

from issuance import migrate
from issuance.config import Settings
from issuance.delivery import Handover, hand_over
from issuance.keystore import software as software_keystore
from issuance.lifecycle import activate, dispatch
from issuance.models import Application, Batch, Card, Revocation, Role, User
from issuance.runtime import Runtime
from issuance.states import ApplicationState, CardState
from issuance.transitions import Actor, move_many
from tests.factories import enroll_citizens, make_user
from tests.lifecycle.conftest import signature_png
from tests.station.conftest import Stage, _pki, printed_by_moves, ready_for_chip
from tests.supervision.conftest import equip, reason
from tests.web.serving import serving
from tests.web.test_browser import _signed_in, _wait, browser  # noqa: F401  (fixture)
from tests.workers.conftest import eligible, registry_db  # noqa: F401  (fixture)
from workers.queues import open_queue, personalize_queue

pytestmark = pytest.mark.slow
A, C = ApplicationState, CardState
VALIDATION = Actor("validation", "HQ")
SERIALS = {"en": [1601, 1602], "ar": [1603, 1604]}
SKIP = {"en": 0, "ar": 2}  # which registry citizens each language's applications are for
DECISION = {"en": "registry record checked by phone", "ar": "تم التحقق من سجل الأحوال المدنية هاتفيًا"}
ISSUED_CARD = {C.PRINTED, C.ISSUED, C.ACTIVE, C.SUSPENDED, C.REVOKED}


@dataclass
class Floor:
    """The served app, the stage (database, keystore, station S1's queue) and who works there."""

    base: str
    stage: Stage
    clerk: User
    sara: User  # the supervisor in the browser
    omar: User  # another supervisor, who hands cards over

    @property
    def rt(self) -> Runtime:
        return self.stage.rt


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory, registry_db: str) -> Iterator[Floor]:  # noqa: F811
    """One database, PKI and keystore for both languages; the app served on them with lifespan off."""
    folder = tmp_path_factory.mktemp("supervisor-flow")
    url = f"sqlite:///{folder / 'issuance.db'}"
    migrate.upgrade(url)
    settings = replace(Settings(), data_dir=folder / "var", database_url=url,
                       registry_database_url=registry_db, keystore="software",
                       keystore_passphrase="correct horse battery staple",
                       keystore_path=str(folder / "keystore.json"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(software_keystore, "SCRYPT_N", 2**12)
        keystore = _pki(settings)
    rt = Runtime(settings)
    people = [make_user(rt.db, name, role) for name, role in
              (("amal", Role.CLERK), ("sara", Role.SUPERVISOR), ("omar", Role.SUPERVISOR))]
    equip(rt.db, stations=("S1",), printers=("P1",), spool=folder / "spool")
    # No lifespan: the app's embedded worker and reconciler would race the station the test drives.
    with serving(settings, lifespan="off") as base:
        yield Floor(base, Stage(rt, keystore, open_queue(settings)), *people)
    keystore.close()
    rt.close()


def _applications(floor: Floor, language: str) -> tuple[int, int]:
    """Two applications ready for a chip: one held in exception, one approved by validation."""
    rt = floor.rt
    held, approved = enroll_citizens(rt.db, rt.vault, floor.clerk, eligible(2, SKIP[language]))
    with rt.db.transaction() as s:
        ready_for_chip(s, rt.vault, [held, approved])
        move_many(s, Application, [held, approved], A.VALIDATING, VALIDATION, expected=A.SUBMITTED)
        move_many(s, Application, [approved], A.APPROVED, VALIDATION, expected=A.VALIDATING)
        move_many(s, Application, [held], A.EXCEPTION, VALIDATION, expected=A.VALIDATING)
        s.execute(update(Application).where(Application.id == held).values(
            outcome_reasons=[reason("ADDRESS_MISMATCH", "the address differs from the registry's")]))
    return held, approved


def _count(state: str) -> str:
    """The batch page's figure for one state (the progress bar's value: digits in either language)."""
    bar = f"document.querySelector('#progress tr[data-state={state}] progress')"
    return f"Number({bar}.getAttribute('value'))"


def _resolve_exception(page: Any, shoot: Any, held: int, language: str) -> None:
    page.goto("/supervisor/exceptions")
    shoot("exceptions")
    page.locator(f"#queue a[href='/supervisor/exceptions/{held}']").click()
    page.wait_for_url(re.compile(rf"/supervisor/exceptions/{held}$"))
    shoot("exception")
    page.locator("input[name=decision][value=approve]").check()
    page.locator("#reason").fill(DECISION[language])
    page.locator(f"form[action='/supervisor/exceptions/{held}/decision'] button.primary").click()
    page.wait_for_url(re.compile(r"/supervisor/exceptions\?decided="))
    shoot("exception-decided")


def _create_batch(page: Any, shoot: Any) -> str:
    page.goto("/supervisor/batches")
    page.locator("input[name=stations][value=S1]").check()
    page.locator("#b-printer").select_option("P1")
    shoot("batches")
    page.locator("form[action='/supervisor/batches'] button.primary").click()
    page.wait_for_url(re.compile(r"/supervisor/batches/[A-Za-z0-9._-]+$"))
    return str(page.url.rsplit("/", 1)[1])


def _hand_over_and_activate(floor: Floor, card_id: int) -> None:
    """Dispatch, hand-over and activation through the core (the browser test of those is tests/lifecycle)."""
    rt = floor.rt
    with rt.db.transaction() as s:
        dispatch(s, [card_id], "HQ", floor.sara)
        number = str(s.get_one(Card, card_id).application.number)
        hand_over(s, rt.vault, Handover(number, "passport", "P1234567", signature_png()), floor.omar)
        activate(s, card_id, floor.omar)


def _revoke(page: Any, shoot: Any, card_id: int) -> None:
    page.goto(f"/cards/{card_id}")
    page.locator("#cause").select_option("lost")
    page.locator("#note").fill("reported lost at the counter")
    page.locator(f"form[action='/cards/{card_id}/revoke'] button").click()
    page.wait_for_url(re.compile(rf"/cards/{card_id}\?done=revoke$"))
    shoot("card-revoked")
    # The holder certificate's serial (a long hex word) wraps inside the page instead of widening it.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _daily_report(page: Any, shoot: Any) -> str:
    page.goto("/reports")
    shoot("reports")
    with page.expect_download() as download:
        page.locator("form[action='/reports/daily'] button.primary").click()
    assert re.fullmatch(r"daily-HQ-\d{4}-\d{2}-\d{2}\.pdf", download.value.suggested_filename)
    pages = PdfReader(io.BytesIO(Path(download.value.path()).read_bytes())).pages
    return unicodedata.normalize("NFKC", "\n".join(p.extract_text() for p in pages))


def _figure(text: str, label: str) -> int:
    found = re.search(rf"{label}\s+(\d+)", text)
    assert found, f"{label!r} not in the report:\n{text}"
    return int(found.group(1))


@pytest.mark.parametrize("language", ["en", "ar"])
def test_supervisor_flow(browser: Any, floor: Floor, language: str, tmp_path: Path) -> None:  # noqa: F811
    rt, stage = floor.rt, floor.stage
    held, approved = _applications(floor, language)
    page, screens, csp_errors = _signed_in(browser, floor.base, language, "sara")

    def shoot(name: str) -> None:
        screens.shoot(f"supervisor-flow-{name}")

    _resolve_exception(page, shoot, held, language)
    with rt.db.session() as s:
        assert s.get_one(Application, held).state == A.APPROVED

    number = _create_batch(page, shoot)
    with rt.db.session() as s:
        batched = set(s.scalars(select(Application.id).join(Batch, Application.batch_id == Batch.id)
                                .where(Batch.number == number)))
    assert batched == {held, approved}
    # The page's announcement queued both on S1's queue, the one the station below works.
    assert set(stage.jobs.pending(personalize_queue("S1"))) == {held, approved}
    _wait(page, f"{_count('batched')} === 2")
    shoot("batch-created")
    page.evaluate("window.__sameLoad = true")  # gone if the page were reloaded

    stats = stage.station(stage.stock(tmp_path / "stock", SERIALS[language])).loop.run()
    assert (stats.personalized, stats.spoiled) == (2, 0)
    _wait(page, f"{_count('personalized')} === 2 && {_count('batched')} === 0")
    shoot("batch-personalized")
    with rt.db.session() as s:
        cards = dict(s.execute(select(Card.application_id, Card.id).where(
            Card.application_id.in_([held, approved]))).all())
    for card_id in cards.values():
        printed_by_moves(rt, card_id)
    _wait(page, f"{_count('printed')} === 2 && {_count('personalized')} === 0")
    assert page.evaluate("window.__sameLoad === true")
    shoot("batch-printed")

    _hand_over_and_activate(floor, cards[held])
    _revoke(page, shoot, cards[held])
    with rt.db.session() as s:
        card = s.get_one(Card, cards[held])
        serial = card.holder_cert_serial
        assert serial and card.state == C.REVOKED
        assert s.scalars(select(Revocation.serial).where(Revocation.serial == serial)).one() == serial
    assert serial in page.locator("#main").inner_text()

    text = _daily_report(page, shoot)
    with rt.db.session() as s:
        cards_where = select(func.count()).select_from(Card).where
        personalized = s.scalar(cards_where(Card.holder_cert_serial.is_not(None)))
        printed = s.scalar(cards_where(Card.state.in_(ISSUED_CARD)))
    assert personalized and personalized == printed  # this language's two, and any of the other's
    assert _figure(text, "Cards personalized") == personalized
    assert _figure(text, "Cards printed") == printed
    assert _figure(text, "Cards spoiled") == 0

    assert not csp_errors, csp_errors
    assert not screens.violations, json.dumps(screens.violations, ensure_ascii=False, indent=1)
    page.context.close()
