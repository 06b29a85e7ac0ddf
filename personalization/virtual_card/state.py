"""Persistent card state (EEPROM image) and its JSON card file format."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from personalization.lds import profile
from personalization.lds.profile import AC_ALWAYS, AC_NEVER, KDD_PREFIX
from personalization.protocol.kdf import StaticKeys, diversify_keys
from personalization.virtual_card.filesystem import DedicatedFile, ElementaryFile

FORMAT = "civil-id-virtual-card/1"
TOTAL_MEMORY = 160 * 1024


@dataclass
class PinState:
    """A PIN or PUK: salted hash, retry counter (ISO/IEC 7816-4 §11.5.6)."""

    salt: bytes = b""
    digest: bytes = b""
    tries_left: int = 3
    max_tries: int = 3

    @property
    def is_set(self) -> bool:
        return bool(self.digest)

    @property
    def blocked(self) -> bool:
        return self.is_set and self.tries_left == 0


@dataclass
class CardState:
    """Everything a card keeps across power cycles."""

    serial: int
    kdd: bytes
    keys: StaticKeys
    isd_aid: bytes = profile.ISD_AID
    life_cycle: int = profile.OP_READY
    sequence_counter: int = 0
    auth_failures: int = 0
    max_auth_failures: int = profile.DEFAULT_MAX_AUTH_FAILURES
    mf: DedicatedFile = field(default_factory=lambda: DedicatedFile(profile.FID_MF))
    bac_seed: bytes | None = None
    signing_key: bytes | None = None  # P-256 private scalar, 32 bytes
    pace_mrz: bytes | None = None  # f(π) for the MRZ: SHA-1 of the MRZ information
    can: bytes | None = None  # card access number, ASCII digits
    ca_key: bytes | None = None  # chip authentication private scalar (ECDH)
    aa_key: bytes | None = None  # active authentication private scalar (ECDSA P-256)
    pin: PinState = field(default_factory=lambda: PinState(max_tries=3, tries_left=3))
    puk: PinState = field(default_factory=lambda: PinState(max_tries=10, tries_left=10))
    total_memory: int = TOTAL_MEMORY
    dfs: dict[int, DedicatedFile] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"CardState(serial={self.serial}, life_cycle={self.life_cycle:#04x})"

    def application(self, aid: bytes) -> DedicatedFile | None:
        for df in self.applications():
            if df.aid == aid:
                return df
        return None

    def applications(self) -> list[DedicatedFile]:
        return list(self.dfs.values())

    def free_space(self) -> int:
        used = sum(ef.size for df in [self.mf, *self.dfs.values()] for ef in df.files.values())
        return self.total_memory - used


def kdd_for(serial: int) -> bytes:
    return KDD_PREFIX + serial.to_bytes(8, "big")


KeySource = bytes | Callable[[bytes], StaticKeys]


def blank_state(serial: int, master_key: KeySource, kvn: int = 0x30) -> CardState:
    """A blank production card: applications installed, no files, keys diversified.

    `master_key` is the master key itself (test stock) or a function giving the card's keys from
    its KDD, such as a keystore's `derive_scp03`, so the master key never leaves the keystore.
    """
    kdd = kdd_for(serial)
    keys = master_key(kdd) if callable(master_key) else diversify_keys(master_key, kdd, kvn)
    state = CardState(serial=serial, kdd=kdd, keys=keys)
    state.mf.files[profile.FID_EF_ATR] = ElementaryFile(
        profile.FID_EF_ATR, len(profile.ef_atr_content()), sfi=1, read_ac=AC_ALWAYS,
        write_ac=AC_NEVER, data=bytearray(profile.ef_atr_content()))
    state.dfs[0x0100] = DedicatedFile(0x0100, profile.LDS_AID, profile.APP_SELECTABLE)
    state.dfs[0x0200] = DedicatedFile(0x0200, profile.SIGNATURE_AID, profile.APP_SELECTABLE)
    return state


# --- JSON card file ---------------------------------------------------------------------

def _hex(b: bytes | None) -> str | None:
    return None if b is None else b.hex()


def _unhex(s: str | None) -> bytes | None:
    return None if s is None else bytes.fromhex(s)


def _df_to_dict(df: DedicatedFile) -> dict[str, Any]:
    return {
        "fid": df.fid,
        "aid": _hex(df.aid),
        "life_cycle": df.life_cycle,
        "files": [
            {"fid": ef.fid, "sfi": ef.sfi, "size": ef.size, "read_ac": ef.read_ac,
             "write_ac": ef.write_ac, "data": bytes(ef.data).hex()}
            for ef in df.files.values()
        ],
    }


def _df_from_dict(d: dict[str, Any]) -> DedicatedFile:
    df = DedicatedFile(d["fid"], _unhex(d["aid"]), d["life_cycle"])
    for f in d["files"]:
        df.files[f["fid"]] = ElementaryFile(
            f["fid"], f["size"], f["sfi"], f["read_ac"], f["write_ac"],
            bytearray(bytes.fromhex(f["data"])))
    return df


def _pin_to_dict(p: PinState) -> dict[str, Any]:
    return {"salt": p.salt.hex(), "digest": p.digest.hex(), "tries_left": p.tries_left,
            "max_tries": p.max_tries}


def _pin_from_dict(d: dict[str, Any]) -> PinState:
    return PinState(bytes.fromhex(d["salt"]), bytes.fromhex(d["digest"]), d["tries_left"],
                    d["max_tries"])


def to_dict(state: CardState) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "serial": state.serial,
        "kdd": state.kdd.hex(),
        "keys": {"kvn": state.keys.kvn, "enc": state.keys.enc.hex(), "mac": state.keys.mac.hex(),
                 "dek": state.keys.dek.hex()},
        "isd_aid": state.isd_aid.hex(),
        "life_cycle": state.life_cycle,
        "sequence_counter": state.sequence_counter,
        "auth_failures": state.auth_failures,
        "max_auth_failures": state.max_auth_failures,
        "total_memory": state.total_memory,
        "mf": _df_to_dict(state.mf),
        "dfs": [_df_to_dict(df) for df in state.dfs.values()],
        "bac_seed": _hex(state.bac_seed),
        "signing_key": _hex(state.signing_key),
        "pace_mrz": _hex(state.pace_mrz),
        "can": _hex(state.can),
        "ca_key": _hex(state.ca_key),
        "aa_key": _hex(state.aa_key),
        "pin": _pin_to_dict(state.pin),
        "puk": _pin_to_dict(state.puk),
    }


def from_dict(d: dict[str, Any]) -> CardState:
    if d.get("format") != FORMAT:
        raise ValueError(f"not a virtual card file (format {d.get('format')!r})")
    k = d["keys"]
    state = CardState(
        serial=d["serial"],
        kdd=bytes.fromhex(d["kdd"]),
        keys=StaticKeys(bytes.fromhex(k["enc"]), bytes.fromhex(k["mac"]),
                        bytes.fromhex(k["dek"]), k["kvn"]),
        isd_aid=bytes.fromhex(d["isd_aid"]),
        life_cycle=d["life_cycle"],
        sequence_counter=d["sequence_counter"],
        auth_failures=d["auth_failures"],
        max_auth_failures=d["max_auth_failures"],
        total_memory=d["total_memory"],
        mf=_df_from_dict(d["mf"]),
        bac_seed=_unhex(d["bac_seed"]),
        signing_key=_unhex(d["signing_key"]),
        # Card files written before PACE, CA and AA existed lack these keys.
        pace_mrz=_unhex(d.get("pace_mrz")),
        can=_unhex(d.get("can")),
        ca_key=_unhex(d.get("ca_key")),
        aa_key=_unhex(d.get("aa_key")),
        pin=_pin_from_dict(d["pin"]),
        puk=_pin_from_dict(d["puk"]),
    )
    for df in d["dfs"]:
        parsed = _df_from_dict(df)
        state.dfs[parsed.fid] = parsed
    return state


def save(state: CardState, path: Path) -> None:
    """Write atomically: a card file is never half-written, like a card's EEPROM transaction."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(to_dict(state), fh, indent=1)
    os.replace(tmp, path)


def load(path: Path) -> CardState:
    with open(path) as fh:
        return from_dict(json.load(fh))
