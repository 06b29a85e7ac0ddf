"""File commands: SELECT, READ BINARY, UPDATE BINARY, CREATE FILE (ISO/IEC 7816-4 §11.1-11.2)."""

from __future__ import annotations

from personalization import tlv
from personalization.apdu import CommandAPDU, ResponseAPDU
from personalization.lds import profile
from personalization.lds.profile import AC_SECURE_CHANNEL
from personalization.status_words import SW, CardError
from personalization.virtual_card.context import Context
from personalization.virtual_card.filesystem import DedicatedFile, ElementaryFile, access_granted

OK = SW.OK


def _current_dir(ctx: Context) -> DedicatedFile:
    return ctx.current_df or ctx.state.mf


def select_file(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """SELECT by FID within the current DF or the MF (ISO/IEC 7816-4 §11.2.2)."""
    if cmd.p1 not in (0x00, 0x02) or cmd.p2 & 0xF3 not in (0x00, 0x04, 0x0C):
        raise CardError(SW.INCORRECT_P1P2)
    if len(cmd.data) != 2:
        raise CardError(SW.WRONG_LENGTH, "SELECT by FID needs 2 bytes")
    fid = int.from_bytes(cmd.data, "big")
    if fid == profile.FID_MF and cmd.p1 == 0x00:
        # ICAO SM continues at MF level: EF.CardAccess and PACE live there.
        ctx.select_application(None, keep_sm=True)
        return ResponseAPDU(b"", OK)
    ef = _current_dir(ctx).find(fid)
    ctx.current_ef = ef
    return ResponseAPDU(b"" if cmd.p2 & 0x0C == 0x0C else ef.fcp(), OK)


def _target(ctx: Context, p1: int, p2: int) -> tuple[ElementaryFile, int]:
    """EF and offset from P1-P2: short EF id in P1 or 15-bit offset (ISO/IEC 7816-4 §11.1.3)."""
    if p1 & 0x80:
        if p1 & 0x60:
            raise CardError(SW.INCORRECT_P1P2)
        ef = _current_dir(ctx).find_sfi(p1 & 0x1F)
        ctx.current_ef = ef
        return ef, p2
    if ctx.current_ef is None:
        raise CardError(SW.COMMAND_NOT_ALLOWED_NO_EF)
    return ctx.current_ef, (p1 << 8) | p2


def _read(ctx: Context, ef: ElementaryFile, offset: int, ne: int, overhead: int = 0
          ) -> ResponseAPDU:
    """Up to Ne bytes from offset; under ICAO SM no more than fits protected in the answer."""
    if not access_granted(ef.read_ac, ctx.satisfied()):
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, f"read EF {ef.fid:04X}")
    if offset >= ef.size:
        # ISO/IEC 7816-4 §11.2.3: an offset at or past the end of the EF is outside it.
        raise CardError(SW.WRONG_P1P2, "offset at or beyond the end of the EF")
    limit = min(ne or 256, profile.MAX_RESPONSE)
    if ctx.sm_limit is not None:
        # ICAO 9303-11 §9.8: size the plain data so DO87, DO99 and DO8E fit the outer Le.
        limit = min(limit, max(1, ctx.sm_limit - overhead))
    chunk = bytes(ef.data[offset : offset + limit])
    if ne and len(chunk) < ne and ne not in (256, 65536) and offset + len(chunk) == ef.size:
        return ResponseAPDU(chunk, SW.END_OF_FILE)
    return ResponseAPDU(chunk, OK)


def read_binary(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """READ BINARY, even INS (ISO/IEC 7816-4 §11.2.3)."""
    ef, offset = _target(ctx, cmd.p1, cmd.p2)
    return _read(ctx, ef, offset, cmd.ne)


def read_binary_odd(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """READ BINARY with odd INS: FID in P1-P2, offset in DO54, data in DO53 (§11.2.3)."""
    fid = (cmd.p1 << 8) | cmd.p2
    ef = ctx.current_ef if fid == 0 else _current_dir(ctx).find(fid)
    if ef is None:
        raise CardError(SW.COMMAND_NOT_ALLOWED_NO_EF)
    ctx.current_ef = ef
    try:
        offset_do = tlv.find(cmd.data, 0x54)
    except tlv.TlvError as exc:
        raise CardError(SW.WRONG_DATA, str(exc)) from exc
    if offset_do is None:
        raise CardError(SW.WRONG_DATA, "odd READ BINARY needs DO54")
    # Ne counts the DO53 wrapper too; what does not fit waits for GET RESPONSE.
    inner = _read(ctx, ef, int.from_bytes(offset_do, "big"), cmd.ne, overhead=4)
    return ResponseAPDU(tlv.encode(0x53, inner.data), inner.sw)


def update_binary(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """UPDATE BINARY (ISO/IEC 7816-4 §11.2.5)."""
    ef, offset = _target(ctx, cmd.p1, cmd.p2)
    if not access_granted(ef.write_ac, ctx.satisfied()):
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, f"write EF {ef.fid:04X}")
    if ctx.current_df is not None and ctx.current_df.life_cycle != profile.APP_SELECTABLE:
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "application already personalized")
    if not cmd.data:
        raise CardError(SW.WRONG_LENGTH, "UPDATE BINARY without data")
    if offset > ef.size:
        raise CardError(SW.WRONG_P1P2, "offset beyond the end of the EF")
    if offset + len(cmd.data) > ef.size:
        raise CardError(SW.WRONG_LENGTH, "data runs past the end of the EF")
    ef.data[offset : offset + len(cmd.data)] = cmd.data
    ctx.dirty = True
    return ResponseAPDU(b"", OK)


def create_file(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """CREATE FILE for a transparent EF in the current application (ISO/IEC 7816-9 §6.1)."""
    df = ctx.current_df
    if df is None:
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "select an application first")
    if not ctx.satisfied() & AC_SECURE_CHANNEL:
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "CREATE FILE needs the secure channel")
    if df.life_cycle != profile.APP_SELECTABLE:
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "application already personalized")
    if cmd.p1 != 0 or cmd.p2 != 0:
        raise CardError(SW.INCORRECT_P1P2)
    ef = ElementaryFile.from_fcp(cmd.data)
    df.create(ef, ctx.state.free_space())
    ctx.current_ef = ef
    ctx.dirty = True
    return ResponseAPDU(b"", OK)


FILE_COMMANDS = {
    0xB0: read_binary,
    0xB1: read_binary_odd,
    0xD6: update_binary,
    0xE0: create_file,
}
