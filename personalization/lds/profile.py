"""Card profile v1 constants: AIDs, ATR, declared capabilities (DESIGN §4, ISO/IEC 7816-4 §8)."""

from __future__ import annotations

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
