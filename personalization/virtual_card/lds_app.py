"""The eMRTD LDS1 application: BAC key seed, GET CHALLENGE, MUTUAL AUTHENTICATE (ICAO 9303-11 §4.3)."""

from __future__ import annotations

from personalization.apdu import CommandAPDU, ResponseAPDU
from personalization.lds import profile
from personalization.lds.profile import AC_ALWAYS, AC_NEVER, TAG_BAC_SEED, TAG_CAN, TAG_PACE_MRZ
from personalization.protocol.pace import CAN_LENGTH, card_access
from personalization.protocol.scp03 import C_DECRYPTION
from personalization.status_words import SW, CardError
from personalization.virtual_card.access import ACCESS_COMMANDS, KEY_COMMANDS
from personalization.virtual_card.bac_chip import BacChip
from personalization.virtual_card.context import Context
from personalization.virtual_card.filesystem import ElementaryFile

OK = SW.OK


def _valid_can(data: bytes) -> bool:
    return len(data) == CAN_LENGTH and data.isdigit()


_PASSWORDS = {
    TAG_BAC_SEED: ("bac_seed", lambda data: len(data) == 16),
    TAG_PACE_MRZ: ("pace_mrz", lambda data: len(data) == 20),
    TAG_CAN: ("can", _valid_can),
}


def _ensure_card_access(ctx: Context) -> None:
    """EF.CardAccess in the MF announces PACE once a PACE password is set (ICAO 9303-10 §3.11.3)."""
    content = card_access(profile.PACE_PARAMETER_ID)
    ctx.state.mf.files[profile.FID_EF_CARD_ACCESS] = ElementaryFile(
        profile.FID_EF_CARD_ACCESS, len(content), profile.SFI_EF_CARD_ACCESS, AC_ALWAYS, AC_NEVER,
        bytearray(content))


def put_data(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """PUT DATA of an access password; needs C-DECRYPTION so it never crosses in clear."""
    tag = (cmd.p1 << 8) | cmd.p2
    if tag not in _PASSWORDS:
        raise CardError(SW.REFERENCE_DATA_NOT_FOUND, "PUT DATA tag")
    if ctx.scp is None or not ctx.scp.level & C_DECRYPTION:
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "needs an encrypted secure channel")
    if ctx.current_df is None or ctx.current_df.life_cycle != profile.APP_SELECTABLE:
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "application already personalized")
    name, valid = _PASSWORDS[tag]
    if not valid(cmd.data):
        raise CardError(SW.WRONG_LENGTH if tag != TAG_CAN else SW.WRONG_DATA, name)
    setattr(ctx.state, name, bytes(cmd.data))
    if tag != TAG_BAC_SEED and profile.OFFERS.pace:
        _ensure_card_access(ctx)
    ctx.dirty = True
    return ResponseAPDU(b"", OK)


def get_challenge(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """GET CHALLENGE: RND.IC for BAC (ICAO 9303-11 §4.3.4.1)."""
    if cmd.p1 or cmd.p2:
        raise CardError(SW.INCORRECT_P1P2)
    if cmd.le != 8:
        raise CardError(SW.WRONG_LENGTH, "GET CHALLENGE returns 8 bytes")
    if ctx.state.bac_seed is None or not profile.OFFERS.bac:
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "BAC key not set")
    # A new BAC attempt discards any running secure messaging session.
    ctx.sm = None
    ctx.bac = BacChip(ctx.state.bac_seed, ctx.rng)
    return ResponseAPDU(ctx.bac.get_challenge(), OK)


def mutual_authenticate(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """MUTUAL AUTHENTICATE; 6300 on any failure (ICAO 9303-11 §4.3.4.2)."""
    bac, ctx.bac = ctx.bac, None
    if bac is None:
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "GET CHALLENGE first")
    answer, session = bac.mutual_authenticate(cmd.data)
    ctx.sm = session
    return ResponseAPDU(answer, OK)


LDS_COMMANDS = {
    0xDA: put_data,
    0x84: get_challenge,
    0x82: mutual_authenticate,
    **ACCESS_COMMANDS,
    **KEY_COMMANDS,
}
