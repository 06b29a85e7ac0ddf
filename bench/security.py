"""Sign-in cost for a known and an unknown name (they must match), audit append and verify rates.

Usage: .venv/bin/python bench/security.py [--rounds 20] [--entries 2000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from issuance import audit, signin
from issuance.config import Settings
from issuance.models import Role
from issuance.runtime import Runtime
from issuance.sites import ensure_site
from issuance.users import add_user


def _median_ms(rt: Runtime, name: str, rounds: int) -> float:
    times = []
    for i in range(rounds):
        with rt.db.session() as s:
            start = time.perf_counter()
            signin.check_password(s, name, f"wrong password {i}")
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--entries", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime(replace(Settings(), data_dir=Path(tmp) / "var"))
        with rt.db.transaction() as s:
            ensure_site(s, "HQ", actor="bench")
            add_user(s, "amal", Role.CLERK, "correct horse battery", actor="bench", site="HQ")
        known, unknown = _median_ms(rt, "amal", args.rounds), _median_ms(rt, "nobody", args.rounds)
        print(f"password check, known name:   {known:7.1f} ms (median of {args.rounds})")
        print(f"password check, unknown name: {unknown:7.1f} ms (ratio {unknown / known:.2f}; 1.00 is ideal)")
        start = time.perf_counter()
        for i in range(0, args.entries, 100):
            with rt.db.transaction() as s:
                audit.record_many(s, [audit.Entry(actor="bench", action="bench.event", entity_id=str(i + j))
                                      for j in range(100)])
        append = time.perf_counter() - start
        with rt.db.session() as s:
            start = time.perf_counter()
            verdict = audit.verify(s)
            walk = time.perf_counter() - start
        print(f"audit append (HMAC chain):    {args.entries / append:7.0f} entries/s")
        print(f"audit verify (HMAC + checkpoints): {verdict.checked / walk:7.0f} entries/s, ok={verdict.ok}")
        rt.close()


if __name__ == "__main__":
    main()
