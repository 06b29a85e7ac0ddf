"""Card profile v1 constants: AIDs, ATR, declared capabilities (DESIGN §4, ISO/IEC 7816-4 §8)."""

from __future__ import annotations

from dataclasses import dataclass

from personalization import tlv

ISD_AID = bytes.fromhex("A000000151000000")  # GPC 2.3 §H.1 issuer security domain
LDS_AID = bytes.fromhex("A0000002471001")  # ICAO 9303-10 §3.1 eMRTD LDS1 application
# Project-private AID for the e-signature application (PIX under a placeholder RID).
SIGNATURE_AID = bytes.fromhex("A000000999455349474E01")

MAX_COMMAND = 4096
MAX_RESPONSE = 4096
FID_EF_ATR = 0x2F01
FID_MF = 0x3F00

# Card life cycle (GPC 2.3 §5.1.1, table 11-5).
OP_READY = 0x01
INITIALIZED = 0x07
SECURED = 0x0F
CARD_LOCKED = 0x7F
TERMINATED = 0xFF
CARD_STATES = {OP_READY: "OP_READY", INITIALIZED: "INITIALIZED", SECURED: "SECURED",
               CARD_LOCKED: "CARD_LOCKED", TERMINATED: "TERMINATED"}

# Application life cycle (GPC 2.3 §5.3.1): SELECTABLE, an application-specific
# PERSONALIZED state, and LOCKED.
APP_SELECTABLE = 0x07
APP_PERSONALIZED = 0x0F
APP_LOCKED = 0x83

DEFAULT_MAX_AUTH_FAILURES = 10
KDD_PREFIX = b"CI"  # 2 bytes of issuer/batch code ahead of the 8-byte serial: our card stock

# Access conditions for one operation: a bitmask of what satisfies it.
AC_ALWAYS = 0x00
AC_SECURE_CHANNEL = 0x01  # an SCP03 session with C-MAC (personalization)
AC_BAC = 0x02  # ICAO secure messaging after BAC (inspection)
AC_NEVER = 0xFF


def historical_bytes() -> bytes:
    """Compact-TLV: card capabilities with extended Lc/Le and chaining (ISO/IEC 7816-4 §8.1.1.2.7)."""
    # 94: select by DF name, by FID, short EF id; 21: data unit 1 byte;
    # C0: command chaining and extended Lc/Le supported, no logical channels.
    return bytes.fromhex("80" "73" "94" "21" "C0")


def atr() -> bytes:
    """ATR 3B 8n 80 01 + historical bytes + TCK: T=0 and T=1 offered (ISO/IEC 7816-3 §8.2)."""
    hist = historical_bytes()
    body = bytes((0x80 | len(hist), 0x80, 0x01)) + hist
    tck = 0
    for b in body:
        tck ^= b
    return b"\x3B" + body + bytes((tck,))


def ef_atr_content() -> bytes:
    """EF.ATR/INFO with the extended length information DO 7F66 (ISO/IEC 7816-4 §12.7.1)."""
    lengths = tlv.encode(0x02, MAX_COMMAND.to_bytes(2, "big")) + tlv.encode(
        0x02, MAX_RESPONSE.to_bytes(2, "big")
    )
    return tlv.encode(0x7F66, lengths)


# --- access control and authentication the chip offers (ICAO 9303-11 §4, §6) -------------

@dataclass(frozen=True)
class SecurityOffer:
    """Which of BAC, PACE, chip and active authentication the card offers (card profile v1)."""

    bac: bool
    pace: bool
    chip_authentication: bool
    active_authentication: bool


OFFERS = SecurityOffer(bac=True, pace=True, chip_authentication=True, active_authentication=True)
FID_EF_CARD_ACCESS = 0x011C  # in the MF, short EF id 1C (ICAO 9303-10 §3.11.3)
SFI_EF_CARD_ACCESS = 0x1C
FID_DG14 = 0x010E
FID_DG15 = 0x010F
PACE_PARAMETER_ID = 13  # brainpoolP256r1 (ICAO 9303-11 §9.5.1 table 6)
CA_PARAMETER_ID = 13  # the chip authentication key lives on the same curve
AA_PARAMETER_ID = 12  # active authentication: ECDSA on NIST P-256
KEY_CHIP_AUTHENTICATION = 0x01  # GENERATE ASYMMETRIC KEY PAIR P2 in the LDS application
KEY_ACTIVE_AUTHENTICATION = 0x02


@dataclass(frozen=True)
class LdsFile:
    """One EF of the LDS1 application: name, FID, short EF id and the LDS tag (ICAO 9303-10 §4.6)."""

    name: str
    fid: int
    sfi: int
    tag: int
    number: int | None = None  # data group number, None for EF.COM and EF.SOD

    @property
    def dump_name(self) -> str:
        """File name used by `issuance card read --dump`, e.g. DG1.bin or EF.SOD.bin."""
        return f"{self.name}.bin"


# ICAO 9303-10 §4.6.1 and §4.7 table 33: file identifiers, short EF ids and tags.
EF_COM = LdsFile("EF.COM", 0x011E, 0x1E, 0x60)
DG1 = LdsFile("DG1", 0x0101, 0x01, 0x61, 1)
DG2 = LdsFile("DG2", 0x0102, 0x02, 0x75, 2)
DG7 = LdsFile("DG7", 0x0107, 0x07, 0x67, 7)
DG11 = LdsFile("DG11", 0x010B, 0x0B, 0x6B, 11)
DG12 = LdsFile("DG12", 0x010C, 0x0C, 0x6C, 12)
DG14 = LdsFile("DG14", FID_DG14, 0x0E, 0x6E, 14)
DG15 = LdsFile("DG15", FID_DG15, 0x0F, 0x6F, 15)
EF_SOD = LdsFile("EF.SOD", 0x011D, 0x1D, 0x77)
# What the station writes: DG14 and DG15 when the profile offers chip and active authentication.
DATA_GROUPS = (DG1, DG2, DG7, DG11, DG12, *((DG14,) if OFFERS.chip_authentication else ()),
               *((DG15,) if OFFERS.active_authentication else ()))
LDS_FILES = (EF_COM, *DATA_GROUPS, EF_SOD)
KNOWN_FILES = (EF_COM, DG1, DG2, DG7, DG11, DG12, DG14, DG15, EF_SOD)
LDS_VERSION = "0108"  # LDS 1.8 (ICAO 9303-10 §4.6.1)
UNICODE_VERSION = "040000"

# Access rules of card profile v1: LDS files read under BAC (or during personalization),
# written only in the SCP03 channel; the holder certificate is public.
LDS_READ_AC = AC_BAC | AC_SECURE_CHANNEL
LDS_WRITE_AC = AC_SECURE_CHANNEL
FID_HOLDER_CERT = 0xC001  # X.509 certificate of the holder's signature key (signature application)
HOLDER_CERT_SFI = 0x01
# PUT DATA P1-P2 of the access passwords.
TAG_BAC_SEED = 0x0062  # BAC key seed, 16 bytes
TAG_PACE_MRZ = 0x0063  # PACE f(π) of the MRZ: SHA-1 of the MRZ information, 20 bytes
TAG_CAN = 0x0064  # card access number, 6 ASCII digits
PIN_REF = 0x81
PUK_REF = 0x82
PIN_BLOCK = 8
PIN_LENGTH = 6
PUK_LENGTH = 8


def pin_block(pin: str) -> bytes:
    """A PIN as ASCII digits padded with FF to 8 bytes (ISO/IEC 7816-4 §11.5.6 data field)."""
    if not pin.isdigit() or not 4 <= len(pin) <= PIN_BLOCK:
        raise ValueError("PIN must be 4 to 8 digits")
    return pin.encode("ascii").ljust(PIN_BLOCK, b"\xff")
