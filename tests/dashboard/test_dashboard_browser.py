"""The dashboard in Debian's Chromium: Chart.js draws both charts under the strict CSP, htmx swaps in
fresh figures and the charts are drawn again; axe-core and screenshots in Arabic and English."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from playwright import sync_api as playwright_api

from issuance import migrate
from issuance.config import Settings
from issuance.db import Database
from issuance.runtime import audit_anchor
from tests.dashboard.production import build
from tests.factories import TEST_PASSWORD
from tests.web.serving import serve
from tests.web.test_browser import CHROMIUM, Screens, _axe, _wait

pytestmark = pytest.mark.slow
DRAWN = "document.querySelectorAll('canvas[data-chart]').length === 2 && " \
        "[...document.querySelectorAll('canvas[data-chart]')].every((c) => Chart.getChart(c) !== undefined)"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on SQLite with a production floor at two sites, served by uvicorn (its queue thread off)."""
    folder = tmp_path_factory.mktemp("dashboard-browser")
    url = f"sqlite:///{folder / 'issuance.db'}"
    migrate.upgrade(url)
    settings = replace(Settings(), data_dir=folder / "var", database_url=url)
    db = Database(url, audit_anchor(settings))
    with pytest.MonkeyPatch.context() as mp:
        build(db, mp, per_site=60)
    db.dispose()
    # No lifespan: the embedded queue's reconciler would rework the floor while the page is read.
    yield from serve(settings, lifespan="off")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.mark.parametrize("language", ["ar", "en"])
def test_charts_draw_and_refresh(browser: Any, server: str, language: str) -> None:
    context = browser.new_context(base_url=server, locale="ar" if language == "ar" else "en-GB",
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(f"{m.text} @ {m.location}")
            if "Content Security Policy" in m.text else None)
    page.goto(f"/sign-in?lang={language}")
    page.locator("#username").fill("boss-hq")
    page.locator("#password").fill(TEST_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}/")
    page.goto("/supervisor/dashboard")
    _wait(page, DRAWN)
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    screens = Screens(page, language)
    screens.shoot("dashboard", check_axe=False)
    assert _axe(page) == []
    # What the poll does, once, without waiting for its timer: the fragment is swapped and redrawn.
    hourly = "Chart.getChart(document.querySelector('canvas[data-name=dash-hourly]'))"
    page.evaluate(f"window.__old = {hourly}")
    page.evaluate("htmx.ajax('GET', '/supervisor/dashboard/figures', "
                  "{target: '#dash-figures', swap: 'outerHTML'})")
    _wait(page, f"{hourly} !== undefined && {hourly} !== window.__old")
    _wait(page, DRAWN)
    assert page.locator("#dash-applications").is_visible()
    assert "EAST" not in page.content()
    assert csp_errors == []
    context.close()
