"""Milliseconds per request of the counter's screens (median and 95th percentile), in process:
the application form, a live field check, the applications list, and a photo upload with its report.

Usage: .venv/bin/python bench/web_pages.py [--rounds 50] [--applications 200]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from enrollment.photo.samples import sample_portrait  # noqa: E402
from issuance import migrate  # noqa: E402
from issuance.config import Settings  # noqa: E402
from issuance.db import Database  # noqa: E402
from issuance.models import Role  # noqa: E402
from issuance.web.app import create_app  # noqa: E402
from tests.factories import TEST_PASSWORD, make_applications, make_user  # noqa: E402


def timed(call: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median and 95th percentile in milliseconds."""
    call()  # warm-up: templates compiled, caches filled
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--applications", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-web-"))
    url = f"sqlite:///{folder / 'issuance.db'}"
    migrate.upgrade(url)
    db = Database(url)
    clerk = make_user(db, "amal", Role.CLERK)
    draft = make_applications(db, clerk, count=args.applications)[0]
    app = create_app(replace(Settings(), data_dir=folder / "var", database_url=url))
    photo = sample_portrait(0)
    with TestClient(app) as c:
        page = c.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        c.post("/sign-in", data={"username": "amal", "password": TEST_PASSWORD, "csrf_token": token})
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/").text).group(1)  # type: ignore[union-attr]
        header = {"x-csrf-token": csrf}
        cases: dict[str, Callable[[], object]] = {
            "GET /counter/new": lambda: c.get("/counter/new"),
            "POST /counter/check": lambda: c.post("/counter/check", headers=header, data={
                "first_name_ar": "محمد", "family_name_ar": "الرازي", "national_number": "123"}),
            f"GET /counter/applications ({args.applications})": lambda: c.get("/counter/applications"),
            "PUT photo (600x771 JPEG)": lambda: c.put(f"/counter/applications/{draft}/photo", content=photo,
                                                      headers={**header, "content-type": "image/jpeg"}),
        }
        print(f"{'request':<40} {'median ms':>10} {'p95 ms':>10}")
        for name, call in cases.items():
            rounds = max(5, args.rounds // 5) if name.startswith("PUT") else args.rounds
            median, p95 = timed(call, rounds)
            print(f"{name:<40} {median:>10.1f} {p95:>10.1f}")
    app.state.runtime.close()
    db.dispose()


if __name__ == "__main__":
    main()
