"""The counter in Debian's Chromium: sign in, fill the form, fake-camera photo, pad signature, submit,
receipt; in Arabic and in English, with screenshots and axe-core on every clerk screen."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw
from playwright import sync_api as playwright_api
from pypdf import PdfReader

from enrollment.field_labels import FORM_FIELDS
from enrollment.photo.samples import sample_portrait
from enrollment.rules import NationalNumberRule
from issuance import migrate
from issuance.config import Settings
from issuance.db import Database
from issuance.models import Role
from issuance.runtime import audit_anchor
from tests.factories import TEST_PASSWORD, make_user
from tests.web.serving import serve

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "issuance/web/static/vendor/node_modules/axe-core/axe.min.js"
ARTIFACTS = REPO / "tests/artifacts"
# No skipping: scripts/test.sh installs chromium (Debian) and axe-core (npm ci); a missing one fails.
pytestmark = pytest.mark.slow


def write_y4m(path: Path, jpeg: bytes, frames: int = 2) -> None:
    """A YUV4MPEG2 4:2:0 clip of a still portrait, for Chromium's fake camera."""
    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    image = image.crop((0, 0, image.width // 2 * 2, image.height // 2 * 2))
    y, cb, cr = image.convert("YCbCr").split()
    half = (image.width // 2, image.height // 2)
    planes = [np.asarray(y), np.asarray(cb.resize(half, Image.Resampling.BOX)),
              np.asarray(cr.resize(half, Image.Resampling.BOX))]
    with path.open("wb") as fh:
        fh.write(f"YUV4MPEG2 W{image.width} H{image.height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(b"FRAME\n")
            for plane in planes:
                fh.write(plane.astype(np.uint8).tobytes())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The whole app on SQLite, served by uvicorn on a loopback port."""
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'issuance.db'}"
    migrate.upgrade(url)
    settings = replace(Settings(), data_dir=folder / "var", database_url=url)
    db = Database(url, audit_anchor(settings))
    for name, role in (("amal", Role.CLERK), ("root", Role.ADMIN), ("sara", Role.SUPERVISOR)):
        make_user(db, name, role)
    db.dispose()
    yield from serve(settings)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Debian Chromium for the module, its camera fed with a real portrait."""
    clip = tmp_path_factory.mktemp("camera") / "portrait.y4m"
    write_y4m(clip, sample_portrait(0))
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            "--no-sandbox", "--disable-background-networking", "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={clip}"])
        yield chromium
        chromium.close()


def _axe(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page (injected via devtools, not the page's CSP)."""
    page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


class Screens:
    """Screenshots and accessibility results of one language's run."""

    def __init__(self, page: Any, language: str) -> None:
        self.page, self.language = page, language
        self.violations: dict[str, list[dict[str, Any]]] = {}
        ARTIFACTS.mkdir(exist_ok=True)

    def shoot(self, name: str, check_axe: bool = True) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{self.language}-{name}.png"), full_page=True)
        if check_axe:
            found = _axe(self.page)
            if found:
                self.violations[name] = found


FORM = {
    "first_name_ar": "محمد", "father_name_ar": "أحمد", "grandfather_name_ar": "علي",
    "family_name_ar": "الرازي",
    "birth_date": "1980-03-12", "birth_place": "Utopia City", "address": "1 Main Street",
}


def _wait(page: Any, expression: str, timeout: float = 15.0) -> None:
    """Poll a condition through devtools (wait_for_function would eval inside the page, which CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.05)


def _fill_form(page: Any, number: str) -> None:
    page.locator("#f-national_number").fill(number[:-1] + str((int(number[-1]) + 1) % 10))
    page.locator("#f-national_number").press("Tab")
    _wait(page, "document.getElementById('err-national_number').textContent.trim() !== ''")
    for name, value in FORM.items():
        page.locator(f"#f-{name}").fill(value)
    page.locator("#f-national_number").fill(number)
    page.locator("#f-sex").select_option("M")
    page.locator("#f-address").press("Tab")
    _wait(page, "document.getElementById('err-national_number').textContent.trim() === ''")
    _wait(page, "document.getElementById('f-mrz_name').value.startsWith('ALRAZY<<')")


def _tab_order(page: Any) -> list[str]:
    """The form's fields in the order Tab visits them (a date field's parts count once)."""
    page.locator(f"#f-{FORM_FIELDS[0]}").focus()
    seen = [FORM_FIELDS[0]]
    for _ in range(4 * len(FORM_FIELDS)):
        page.keyboard.press("Tab")
        name = page.evaluate("document.activeElement.name || document.activeElement.id")
        if name not in seen:
            seen.append(name)
        if len(seen) > len(FORM_FIELDS):
            break
    return seen[:len(FORM_FIELDS)]


def _failing_photo(folder: Path) -> Path:
    """The portrait shrunk into a corner: head too small and off centre."""
    portrait = Image.open(io.BytesIO(sample_portrait(0))).convert("RGB")
    canvas = Image.new("RGB", portrait.size, (236, 236, 234))
    small = portrait.resize((portrait.width * 5 // 7, portrait.height * 5 // 7))
    canvas.paste(small, (0, 100))
    path = folder / "failing.jpg"
    canvas.save(path, quality=92)
    return path


def _signature_file(folder: Path) -> Path:
    img = Image.new("L", (600, 200), 245)
    ImageDraw.Draw(img).line([(40, 150), (200, 40), (380, 160), (560, 60)], fill=20, width=6)
    path = folder / "signature.png"
    img.save(path)
    return path


RED_PIXELS = """(() => { const c = document.getElementById('result');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] === 255 && d[i + 1] === 42 && d[i + 2] === 42) n++;
  return n; })()"""


def _photo(page: Any, screens: Screens, folder: Path, retake_first: bool) -> None:
    _wait(page, "document.getElementById('video').videoWidth > 0")
    screens.shoot("photo-camera")
    if retake_first:  # a failing file: its failed checks drawn in red, then one key to retake
        page.locator("#photo-file").set_input_files(str(_failing_photo(folder)))
        _wait(page, "document.getElementById('verdict').textContent.includes('head_height')", 30)
        assert page.evaluate(RED_PIXELS) > 100
        assert not page.locator("#next").is_visible()
        assert page.evaluate("document.activeElement.id") == "retake-btn"
        screens.shoot("photo-failed")
        page.keyboard.press("r")
        _wait(page, "document.getElementById('report-section').hidden")
        assert page.evaluate("document.activeElement.id") == "capture-btn"
        page.keyboard.press("Space")
    else:
        page.locator("body").press("Space")
    _wait(page, "!document.getElementById('report-section').hidden && "
                "document.getElementById('verdict').textContent.trim() !== ''", 30)
    verdict = page.locator("#verdict").inner_text()
    screens.shoot("photo-report")
    assert page.locator("#next").is_visible(), verdict
    assert page.evaluate(RED_PIXELS) == 0, verdict
    page.keyboard.press("Enter")  # the next link has the focus once the photo passes


def _signature(page: Any, folder: Path, with_pad: bool) -> None:
    page.wait_for_url(re.compile(r"/signature$"))
    if with_pad:
        box = page.locator("#pad").bounding_box()
        page.mouse.move(box["x"] + 40, box["y"] + 150)
        page.mouse.down()
        for x, y in ((150, 40), (260, 160), (380, 50), (520, 140)):
            page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
        page.mouse.up()
        page.keyboard.press("s")
    else:  # without the mouse: a scanned signature
        page.locator("#signature-file").set_input_files(str(_signature_file(folder)))


def _signed_in(browser: Any, server: str, language: str, username: str) -> tuple[Any, Screens, list[str]]:
    """A new browser context signed in through the form, with its console's CSP complaints."""
    context = browser.new_context(base_url=server, locale="ar" if language == "ar" else "en-GB")
    context.grant_permissions(["camera"], origin=server)
    page = context.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    screens = Screens(page, language)
    page.goto(f"/sign-in?lang={language}")
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    screens.shoot("sign-in")
    page.locator("#username").fill(username)
    page.locator("#password").fill(TEST_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}/")
    return page, screens, csp_errors


def _enrol(browser: Any, server: str, language: str, number: str, folder: Path) -> Screens:
    page, screens, csp_errors = _signed_in(browser, server, language, "amal")
    context = page.context
    page.goto("/counter/new")
    assert _tab_order(page) == list(FORM_FIELDS)
    _fill_form(page, number)
    screens.shoot("new-application")
    page.locator("button.primary").press("Enter")
    page.wait_for_url(re.compile(r"/photo$"))
    _photo(page, screens, folder, retake_first=language == "en")
    _signature(page, folder, with_pad=language == "en")
    page.locator("#next").wait_for(state="visible")
    _wait(page, "document.activeElement.id === 'next'")  # the default 15 s: a loaded machine is slow to focus
    screens.shoot("signature")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/review$"))
    screens.shoot("review")
    assert page.evaluate("document.activeElement.id") == "submit-btn"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/receipt$"))
    screens.shoot("receipt")
    application_number = page.locator("#application-number").inner_text()
    pdf = page.request.get(page.locator("#receipt-link").get_attribute("href"))
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert application_number in text
    page.goto("/counter/applications")
    assert application_number in page.content()
    screens.shoot("my-applications")
    assert not csp_errors, csp_errors
    context.close()
    return screens


@pytest.mark.parametrize("language", ["en", "ar"])
def test_clerk_enrols_in_the_browser(browser: Any, server: str, language: str, tmp_path: Path) -> None:
    """English: pad signature and a failed photo retaken; Arabic: no mouse at all (scanned signature)."""
    number = NationalNumberRule().complete("00000010" + ("1" if language == "en" else "2"))
    screens = _enrol(browser, server, language, number, tmp_path)
    assert not screens.violations, json.dumps(screens.violations, ensure_ascii=False, indent=1)



@pytest.mark.parametrize("language", ["en", "ar"])
def test_admin_and_supervisor_screens(browser: Any, server: str, language: str) -> None:
    """The other roles' screens in both languages: screenshots, no CSP complaint, no serious axe finding."""
    violations: dict[str, Any] = {}
    screens_of = (("root", ("/admin/users", "/password")),
                  ("sara", ("/supervisor/exceptions", "/reports", "/audit")))
    for username, paths in screens_of:
        page, screens, csp_errors = _signed_in(browser, server, language, username)
        for path in paths:
            page.goto(path)
            screens.shoot(path.strip("/").replace("/", "-"))
        violations.update(screens.violations)
        assert not csp_errors, csp_errors
        page.context.close()
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)
