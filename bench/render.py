"""Card rendering speed: median ms per card (both sides, K panels, PDF) and a 100-card proof sheet.

Targets (issue 14): at most 60 ms per card at 300 dpi; at most 5 s for the 100-card sheet.
Usage: .venv/bin/python bench/render.py [--cards 50] [--dpi 300] [--design default] [--sheet 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from printing.design import load_design  # noqa: E402
from printing.proofs import BatchInfo, ProofCard, proof_sheet_pdf  # noqa: E402
from printing.render import render_card  # noqa: E402
from printing.samples import sample_face  # noqa: E402
from printing.seal import SoftwareSealSigner, make_seal, seal_text  # noqa: E402


def _signer() -> SoftwareSealSigner:
    """A throwaway self-signed seal signer: the benchmark measures rendering, not the PKI."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "bench seal signer")])
    now = datetime.now()
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(0xBE7C).not_valid_before(now).not_valid_after(now.replace(year=now.year + 1)))
    certificate = builder.sign(key, hashes.SHA256())
    return SoftwareSealSigner(key, certificate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=50)
    parser.add_argument("--dpi", type=int, default=300, choices=(300, 600))
    parser.add_argument("--design", default="default")
    parser.add_argument("--sheet", type=int, default=100)
    args = parser.parse_args()
    design, signer = load_design(args.design), _signer()
    faces = [sample_face(n) for n in range(max(args.cards, args.sheet))]
    render_card(faces[0], design, dpi=args.dpi)  # warm the font and layer caches
    times, cpu_times, seal_times, cards = [], [], [], []
    for face in faces[:args.cards]:
        start, cpu = time.perf_counter(), time.process_time()
        text = seal_text(make_seal(face, signer, "UTO"))
        sealed = time.perf_counter()
        card = render_card(face, design, seal_text=text, dpi=args.dpi)
        times.append((time.perf_counter() - start) * 1000)
        cpu_times.append((time.process_time() - cpu) * 1000)
        seal_times.append((sealed - start) * 1000)
        cards.append(ProofCard(face.document_number, face.arabic_name, face.latin_name,
                               card.front, card.back))
    while len(cards) < args.sheet:
        cards.append(cards[len(cards) % args.cards])
    info = BatchInfo("BENCH", "folder:bench", "bench", datetime.now())
    start, cpu = time.perf_counter(), time.process_time()
    pdf = proof_sheet_pdf(info, cards[:args.sheet])
    sheet_seconds, sheet_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"cards rendered: {args.cards} at {args.dpi} dpi, design {args.design}")
    p90 = statistics.quantiles(times, n=10)[-1]
    print(f"median ms per card (seal + both sides + K panels + PDF): {statistics.median(times):.1f} "
          f"(p90 {p90:.1f}, of which seal {statistics.median(seal_times):.1f})  target <= 60")
    # CPU time tells the cost apart from other processes competing for the machine.
    print(f"median CPU ms per card: {statistics.median(cpu_times):.1f}")
    print(f"proof sheet of {args.sheet} cards: {sheet_seconds:.2f} s, CPU {sheet_cpu:.2f} s "
          f"({len(pdf) / 1e6:.1f} MB)  target <= 5")


if __name__ == "__main__":
    main()
