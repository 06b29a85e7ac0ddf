"""The issuer's PKI: CSCA, Document Signers, master list, signature CA, seal signer, CRLs (ICAO 9303-12).

Private keys stay in the keystore (`issuance.keystore`); certificates, CRLs and the master list are
files in the PKI folder (DATA/pki by default); revocations and key use counts are in the database.
"""

from __future__ import annotations

from pathlib import Path

from issuance.config import Settings


def pki_folder(settings: Settings) -> Path:
    """Where the PKI's public files live: DATA/pki."""
    return settings.data_dir / "pki"
