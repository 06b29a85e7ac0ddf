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
