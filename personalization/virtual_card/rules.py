"""Class and instruction bytes the card accepts, and command chaining (ISO/IEC 7816-4 §5.3.3, §5.4)."""

from __future__ import annotations

from personalization.apdu import CLA_CHAINING, CommandAPDU
from personalization.status_words import SW
from personalization.virtual_card import card_manager, files
from personalization.virtual_card.context import Context
from personalization.virtual_card.lds_app import LDS_COMMANDS
from personalization.virtual_card.signature_app import SIGNATURE_COMMANDS

INS_SELECT = 0xA4
INS_GET_RESPONSE = 0xC0
SW_LAST_COMMAND_EXPECTED = 0x6883
SW_CHAINING_NOT_SUPPORTED = 0x6884

# Commands whose data field may arrive in several chained parts; each part is buffered.
CHAINABLE = frozenset({0xD6, 0xE0, 0xDA, 0x2A, 0xD8})
# GENERAL AUTHENTICATE chains dialogue steps, each answered on its own (ICAO 9303-11 §4.4.4.2).
SELF_CHAINED = frozenset({0x86})
KNOWN_INS = frozenset({
    INS_SELECT, INS_GET_RESPONSE, 0x50, 0x82,
    *card_manager.ISD_COMMANDS, *files.FILE_COMMANDS, *LDS_COMMANDS, *SIGNATURE_COMMANDS,
})


def class_refusal(cla: int) -> int | None:
    """ISO/IEC 7816-4 §5.4.1: 0x20-0x3F is reserved; 0x40-0x7F means logical channels 4-19."""
    if cla == 0xFF or 0x20 <= cla < 0x40 or cla >= 0xA0:
        return SW.CLA_NOT_SUPPORTED
    if 0x40 <= cla < 0x80 or cla & 0x03:
        # The ATR offers no logical channels (card capabilities, third software function byte).
        return SW.LOGICAL_CHANNEL_NOT_SUPPORTED
    return None


def chain_header(cmd: CommandAPDU) -> tuple[int, int, int, int]:
    """CLA without the chaining bit, INS, P1, P2: what every part of one chain shares."""
    return cmd.cla & ~CLA_CHAINING & 0xFF, cmd.ins, cmd.p1, cmd.p2


def refusal(cmd: CommandAPDU) -> int | None:
    """The status word refusing a command's class or instruction byte, or None to go on."""
    refused = class_refusal(cmd.cla)
    if refused is not None:
        return refused
    if cmd.ins & 0xF0 in (0x60, 0x90) or cmd.ins not in KNOWN_INS:
        return SW.INS_NOT_SUPPORTED
    return None


def chain_refusal(ctx: Context, cmd: CommandAPDU) -> int | None:
    """Chaining errors, judged once secure messaging is unwrapped so sessions stay in step."""
    if cmd.cla & CLA_CHAINING and cmd.ins not in CHAINABLE | SELF_CHAINED:
        return SW_CHAINING_NOT_SUPPORTED
    if ctx.chain_header is not None and chain_header(cmd) != ctx.chain_header:
        return SW_LAST_COMMAND_EXPECTED
    return None
