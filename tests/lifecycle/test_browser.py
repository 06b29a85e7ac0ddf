"""The hand-over in Debian's Chromium: QR text, identity, the pen pad's signature sent with the form,
then activation and revocation from the card's page; Arabic and English, screenshots, axe-core."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from issuance import migrate
from issuance.config import Settings
from issuance.models import Card, Role
from issuance.runtime import Runtime
from tests.factories import make_user
from tests.lifecycle.conftest import dispatched, eligible, printed_cards
from tests.web.serving import serving
from tests.web.test_browser import _signed_in, _wait, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def card_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, tuple[int, str]]]]:
    """The app on SQLite with a dispatched card per language: its base URL and (card id, receipt)."""
    folder: Path = tmp_path_factory.mktemp("cards-browser")
    url = f"sqlite:///{folder / 'issuance.db'}"
    migrate.upgrade(url)
    settings = replace(Settings(), data_dir=folder / "var", database_url=url)
    rt = Runtime(settings)
    clerk = make_user(rt.db, "amal", Role.CLERK)
    sara = make_user(rt.db, "sara", Role.SUPERVISOR)
    ids = printed_cards(rt, clerk, eligible(2))
    dispatched(rt, ids, sara)
    with rt.db.session() as s:
        numbers = [str(s.get_one(Card, i).application.number) for i in ids]
    cards = {"en": (ids[0], numbers[0]), "ar": (ids[1], numbers[1])}
    rt.close()
    with serving(settings) as base:
        yield base, cards


def _sign_on_the_pad(page: Any) -> None:
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 120)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 40 + step * 40, box["y"] + 120 - (step % 3) * 25)
    page.mouse.up()
    page.locator("#save-btn").click()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_supervisor_hands_over_activates_and_revokes(browser: Any, card_server: Any,  # noqa: F811
                                                     language: str) -> None:
    base, cards = card_server
    card_id, receipt = cards[language]
    page, screens, csp_errors = _signed_in(browser, base, language, "sara")
    page.goto("/cards")
    screens.shoot("cards")
    page.goto("/cards/handover")
    page.locator("#receipt").fill(receipt)  # what a QR scanner types into the focused field
    page.locator("#document_kind").select_option("passport")
    page.locator("#document_number").fill("P1234567")
    _sign_on_the_pad(page)
    _wait(page, "document.getElementById('signature-input').files.length === 1")
    screens.shoot("hand-over")
    page.locator("#handover button.primary").click()
    page.wait_for_url(f"{base}/cards/{card_id}?done=handed_over")
    page.locator(f"form[action='/cards/{card_id}/activate'] button").click()
    page.wait_for_url(f"{base}/cards/{card_id}?done=activate")
    page.locator("#cause").select_option("stolen")
    page.locator("#note").fill("police report 7")
    page.locator(f"form[action='/cards/{card_id}/revoke'] button").click()
    page.wait_for_url(f"{base}/cards/{card_id}?done=revoke")
    assert "stolen: police report 7" in page.content()
    screens.shoot("card")
    assert not csp_errors, csp_errors
    assert not screens.violations, json.dumps(screens.violations, ensure_ascii=False, indent=1)
    page.context.close()
