"""Signatures and SCP03 derivations per second for both keystores, and the keystore time per card.

Target from issue 11: one card's personalization spends at most 20 ms in the keystore (one SCP03
derivation, one EF.SOD signature by the DS, one seal signature). The PKCS#11 keystore runs on a
SoftHSM2 token created in a temporary SOFTHSM2_CONF directory.

Usage: .venv/bin/python bench/keystore.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from issuance.keystore import Keystore, Pkcs11Keystore, SoftwareKeystore

LIBRARY = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "246810"
TARGET_MS_PER_CARD = 20.0


def softhsm_token(root: Path) -> Pkcs11Keystore:
    """A fresh token in a private SoftHSM2 directory (set before the library is loaded)."""
    (root / "tokens").mkdir(parents=True)
    conf = root / "softhsm2.conf"
    tokens = root / "tokens"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "bench", "--pin", PIN,
                    "--so-pin", "13579111"], check=True, capture_output=True)
    return Pkcs11Keystore(LIBRARY, "bench", PIN)


def rate(operation: Callable[[], object], seconds: float) -> float:
    """Operations per second over about `seconds`."""
    for _ in range(20):
        operation()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            operation()
        count += 50
    return count / elapsed


def measure(store: Keystore, seconds: float) -> dict[str, float]:
    store.generate_ec_p256("ds")
    store.generate_rsa3072("csca")
    store.generate_aes("master", 128)
    sod = os.urandom(1500)
    kdd = bytes(10)
    figures = {
        "ECDSA P-256 signatures/s": rate(lambda: store.sign("ds", sod), seconds),
        "RSA-3072 PSS signatures/s": rate(lambda: store.sign("csca", sod), seconds / 2),
        "SCP03 derivations/s": rate(lambda: store.derive_scp03("master", kdd), seconds),
    }
    per_card = 1000 * (1 / figures["SCP03 derivations/s"] + 2 / figures["ECDSA P-256 signatures/s"])
    figures["ms in the keystore per card"] = per_card
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        software = SoftwareKeystore(root / "keystore.json", "bench passphrase", create=True)
        results["software"] = measure(software, args.seconds)
        hsm = softhsm_token(root / "softhsm")
        results["pkcs11 (SoftHSM2)"] = measure(hsm, args.seconds)
        hsm.close()
    names = list(next(iter(results.values())))
    print(f"{'':<30}" + "".join(f"{k:>20}" for k in results))
    for name in names:
        print(f"{name:<30}" + "".join(f"{r[name]:>20.1f}" for r in results.values()))
    worst = max(r["ms in the keystore per card"] for r in results.values())
    verdict = "within" if worst <= TARGET_MS_PER_CARD else "OVER"
    print(f"per card: {worst:.2f} ms at worst, {verdict} the {TARGET_MS_PER_CARD:.0f} ms budget")
    return 0 if worst <= TARGET_MS_PER_CARD else 1


if __name__ == "__main__":
    raise SystemExit(main())
