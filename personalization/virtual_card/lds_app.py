"""The eMRTD LDS1 application: BAC key seed, GET CHALLENGE, MUTUAL AUTHENTICATE (ICAO 9303-11 §4.3)."""

from __future__ import annotations

from personalization.apdu import CommandAPDU, ResponseAPDU
from personalization.lds import profile
from personalization.lds.profile import TAG_BAC_SEED
from personalization.protocol.scp03 import C_DECRYPTION
from personalization.status_words import SW, CardError
from personalization.virtual_card.bac_chip import BacChip
from personalization.virtual_card.context import Context

OK = SW.OK


def put_data(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """PUT DATA of the BAC key seed; needs C-DECRYPTION so the seed never crosses in clear."""
    if (cmd.p1 << 8) | cmd.p2 != TAG_BAC_SEED:
        raise CardError(SW.REFERENCE_DATA_NOT_FOUND, "PUT DATA tag")
    if ctx.scp is None or not ctx.scp.level & C_DECRYPTION:
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "needs an encrypted secure channel")
    if ctx.current_df is None or ctx.current_df.life_cycle != profile.APP_SELECTABLE:
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "application already personalized")
    if len(cmd.data) != 16:
        raise CardError(SW.WRONG_LENGTH, "key seed is 16 bytes")
    ctx.state.bac_seed = bytes(cmd.data)
    ctx.dirty = True
    return ResponseAPDU(b"", OK)


def get_challenge(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """GET CHALLENGE: RND.IC for BAC (ICAO 9303-11 §4.3.4.1)."""
    if cmd.p1 or cmd.p2:
        raise CardError(SW.INCORRECT_P1P2)
    if cmd.le != 8:
        raise CardError(SW.WRONG_LENGTH, "GET CHALLENGE returns 8 bytes")
    if ctx.state.bac_seed is None:
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
}
