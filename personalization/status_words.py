"""Status words and their meaning (ISO/IEC 7816-4 §5.6, GPC 2.3 §11.1.3, ICAO 9303-11 §9.8)."""

from __future__ import annotations

from enum import IntEnum


class SW(IntEnum):
    """Status words the card and the station use by name (ISO/IEC 7816-4 §5.6)."""

    OK = 0x9000
    END_OF_FILE = 0x6282
    AUTHENTICATION_FAILED = 0x6300
    MEMORY_FAILURE = 0x6581
    WRONG_LENGTH = 0x6700
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    SECURE_MESSAGING_NOT_SUPPORTED = 0x6882
    COMMAND_INCOMPATIBLE = 0x6981
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_NOT_USABLE = 0x6984
    CONDITIONS_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED_NO_EF = 0x6986
    SM_DATA_OBJECTS_MISSING = 0x6987
    SM_DATA_OBJECTS_INCORRECT = 0x6988
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    RECORD_NOT_FOUND = 0x6A83
    NOT_ENOUGH_MEMORY = 0x6A84
    INCORRECT_P1P2 = 0x6A86
    REFERENCE_DATA_NOT_FOUND = 0x6A88
    FILE_EXISTS = 0x6A89
    DF_NAME_EXISTS = 0x6A8A
    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00


_EXACT: dict[int, str] = {
    0x9000: "normal processing",
    0x6281: "part of returned data may be corrupted",
    0x6282: "end of file reached before reading Le bytes",
    0x6283: "selected file deactivated",
    0x6300: "verification or authentication failed",
    0x6581: "memory failure",
    0x6700: "wrong length",
    0x6881: "logical channel not supported",
    0x6882: "secure messaging not supported",
    0x6883: "last command of the chain expected",
    0x6884: "command chaining not supported",
    0x6981: "command incompatible with file structure",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6984: "reference data not usable",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6987: "expected secure messaging data objects missing",
    0x6988: "incorrect secure messaging data objects",
    0x6A80: "incorrect parameters in the command data field",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A83: "record not found",
    0x6A84: "not enough memory space in the file",
    0x6A86: "incorrect parameters P1-P2",
    0x6A88: "referenced data or reference data not found",
    0x6A89: "file already exists",
    0x6A8A: "DF name already exists",
    0x6B00: "wrong parameters P1-P2 (offset outside the EF)",
    0x6D00: "instruction code not supported or invalid",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}


def describe(sw: int) -> str:
    """Return the ISO/IEC 7816-4 meaning of a status word (ISO/IEC 7816-4 §5.6 tables 5-6)."""
    if sw in _EXACT:
        return _EXACT[sw]
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw1 == 0x61:
        return f"{sw2 or 256} more response bytes available (GET RESPONSE)"
    if sw1 == 0x6C:
        return f"wrong Le field; {sw2 or 256} bytes available"
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return f"verification failed, {sw2 & 0x0F} tries left"
    if sw1 == 0x62:
        return "warning: state of non-volatile memory unchanged"
    if sw1 == 0x63:
        return "warning: state of non-volatile memory changed"
    if sw1 == 0x64:
        return "execution error: state of non-volatile memory unchanged"
    if sw1 == 0x65:
        return "execution error: state of non-volatile memory changed"
    if sw1 == 0x67:
        return "wrong length"
    if sw1 == 0x68:
        return "functions in CLA not supported"
    if sw1 == 0x69:
        return "command not allowed"
    if sw1 == 0x6A:
        return "wrong parameters P1-P2"
    return "unknown status word"


def format_sw(sw: int) -> str:
    """Render a status word as hex plus meaning, e.g. '6982 (security status not satisfied)'."""
    return f"{sw:04X} ({describe(sw)})"


def is_success(sw: int) -> bool:
    """True for 9000 and the warnings GP treats as success (GPC 2.3 Amd D §6.2.5)."""
    return sw == 0x9000 or sw >> 8 in (0x62, 0x63)


class CardError(Exception):
    """A command ended with an error status word; the message always names its meaning."""

    def __init__(self, sw: int, context: str = "") -> None:
        self.sw = sw
        self.context = context
        prefix = f"{context}: " if context else ""
        super().__init__(f"{prefix}SW {format_sw(sw)}")


class TransportError(Exception):
    """The link to the card failed (no reader, no card, card removed mid-command)."""


class CardRemovedError(TransportError):
    """The card left the field or lost power during a command (a tear)."""
