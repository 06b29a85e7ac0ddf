"""The issuer security domain: SCP03 service, PUT KEY, SET STATUS, GET DATA (GPC 2.3 §11)."""

from __future__ import annotations

import hmac

from personalization import tlv
from personalization.apdu import CommandAPDU, ResponseAPDU
from personalization.lds import profile
from personalization.protocol.kdf import CARD_CHALLENGE, StaticKeys, aes_kcv, scp03_kdf
from personalization.protocol.scp03 import (
    C_MAC,
    I_PARAMETER,
    VALID_LEVELS,
    InitializeUpdateResponse,
    Scp03Session,
)
from personalization.status_words import SW, CardError
from personalization.virtual_card.context import Context

OK = SW.OK
# Privileges (GPC 2.3 §6.6.1 table 6-1): the ISD is a security domain with card lock,
# card terminate and card reset (default selected) rights; applications hold none.
ISD_PRIVILEGES = bytes.fromhex("9E0000")
APP_PRIVILEGES = bytes(3)


def initialize_update(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """INITIALIZE UPDATE with a pseudo-random card challenge (GPC Amd D §7.1, §6.2.2.1)."""
    state = ctx.state
    ctx.scp = None
    ctx.scp_pending = None
    if state.life_cycle == profile.TERMINATED:
        raise CardError(SW.FUNCTION_NOT_SUPPORTED, "card terminated")
    if state.auth_failures >= state.max_auth_failures:
        raise CardError(SW.AUTH_METHOD_BLOCKED, "card manager blocked")
    if cmd.p1 not in (0, state.keys.kvn) or cmd.p2 != 0:
        raise CardError(SW.REFERENCE_DATA_NOT_FOUND, "unknown key version")
    if len(cmd.data) != 8:
        raise CardError(SW.WRONG_LENGTH, "host challenge must be 8 bytes")
    state.sequence_counter = (state.sequence_counter + 1) & 0xFFFFFF
    ctx.dirty = True
    counter = state.sequence_counter.to_bytes(3, "big")
    card_challenge = scp03_kdf(state.keys.enc, CARD_CHALLENGE, counter + state.isd_aid, 64)
    session = Scp03Session(state.keys, cmd.data, card_challenge)
    ctx.scp_pending = session
    answer = InitializeUpdateResponse(
        state.kdd, state.keys.kvn, 0x03, I_PARAMETER, card_challenge, session.card_cryptogram(),
        counter,
    )
    return ResponseAPDU(answer.to_bytes(), OK)


def external_authenticate(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """EXTERNAL AUTHENTICATE: host cryptogram and C-MAC, counts failures (GPC Amd D §7.2)."""
    session, ctx.scp_pending = ctx.scp_pending, None
    if session is None:
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "INITIALIZE UPDATE first")
    if cmd.p1 not in VALID_LEVELS or cmd.p2 != 0:
        raise CardError(SW.INCORRECT_P1P2, "security level")
    session.level = C_MAC
    ok = len(cmd.data) == 16 and hmac.compare_digest(cmd.data[:8], session.host_cryptogram())
    if ok:
        try:
            session.verify_command(cmd)
        except CardError:
            ok = False
    if not ok:
        ctx.state.auth_failures += 1
        ctx.dirty = True
        raise CardError(SW.AUTHENTICATION_FAILED, "host cryptogram")
    ctx.state.auth_failures = 0
    ctx.dirty = True
    session.level = cmd.p1
    ctx.scp = session
    return ResponseAPDU(b"", OK)


def _require_channel(ctx: Context) -> Scp03Session:
    if ctx.scp is None:
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "needs the SCP03 secure channel")
    return ctx.scp


def put_key(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """PUT KEY replacing the AES key set, keys under the DEK (GPC 2.3 §11.8, Amd D §7.3)."""
    session = _require_channel(ctx)
    state = ctx.state
    if cmd.p1 not in (0, state.keys.kvn) or cmd.p2 != 0x81:
        raise CardError(SW.INCORRECT_P1P2, "PUT KEY supports the whole key set (P2=81)")
    data = cmd.data
    if len(data) < 1:
        raise CardError(SW.WRONG_LENGTH)
    new_kvn, pos = data[0], 1
    keys: list[bytes] = []
    checks = b""
    for _ in range(3):
        if len(data) < pos + 3 or data[pos] != 0x88:
            raise CardError(SW.WRONG_DATA, "AES key component expected")
        block_len = data[pos + 1]
        block = data[pos + 2 : pos + 2 + block_len]
        pos += 2 + block_len
        if len(block) != block_len or block_len < 17:
            raise CardError(SW.WRONG_LENGTH, "key component")
        key = session.decrypt_key(block[1:], block[0])
        kcv_len = data[pos]
        kcv = data[pos + 1 : pos + 1 + kcv_len]
        pos += 1 + kcv_len
        if kcv_len and kcv != aes_kcv(key)[:kcv_len]:
            raise CardError(SW.WRONG_DATA, "key check value")
        keys.append(key)
        checks += aes_kcv(key)
    state.keys = StaticKeys(keys[0], keys[1], keys[2], new_kvn)
    ctx.dirty = True
    return ResponseAPDU(bytes((new_kvn,)) + checks, OK)


_CARD_TRANSITIONS = {
    profile.OP_READY: {profile.INITIALIZED, profile.SECURED},
    profile.INITIALIZED: {profile.SECURED},
    profile.SECURED: {profile.CARD_LOCKED},
    profile.CARD_LOCKED: {profile.SECURED},
}
_APP_TRANSITIONS = {
    profile.APP_SELECTABLE: {profile.APP_PERSONALIZED, profile.APP_LOCKED},
    profile.APP_PERSONALIZED: {profile.APP_LOCKED},
    profile.APP_LOCKED: {profile.APP_PERSONALIZED},
}


def set_status(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """SET STATUS for the card or an application (GPC 2.3 §11.10, §5.1.1)."""
    _require_channel(ctx)
    state = ctx.state
    if cmd.p1 == 0x80:
        target = cmd.p2
        allowed = _CARD_TRANSITIONS.get(state.life_cycle, set()) | {profile.TERMINATED}
        if target not in profile.CARD_STATES or target not in allowed:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "life cycle transition not allowed")
        state.life_cycle = target
    elif cmd.p1 == 0x40:
        df = state.application(cmd.data)
        if df is None:
            raise CardError(SW.FILE_NOT_FOUND, "application")
        if cmd.p2 not in _APP_TRANSITIONS.get(df.life_cycle, set()):
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "application transition not allowed")
        df.life_cycle = cmd.p2
    else:
        raise CardError(SW.INCORRECT_P1P2)
    ctx.dirty = True
    return ResponseAPDU(b"", OK)


def get_status(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """GET STATUS of the ISD or the applications, tagged format (GPC 2.3 §11.4)."""
    _require_channel(ctx)
    state = ctx.state
    if cmd.p1 == 0x80:
        entries = [(state.isd_aid, state.life_cycle, ISD_PRIVILEGES)]
    elif cmd.p1 == 0x40:
        entries = [(df.aid or b"", df.life_cycle, APP_PRIVILEGES) for df in state.applications()]
    else:
        raise CardError(SW.INCORRECT_P1P2)
    # GPC 2.3 table 11-36: AID, life cycle, privileges (C5) and the associated SD (CC).
    body = b"".join(
        tlv.encode(0xE3, tlv.encode(0x4F, aid) + tlv.encode(0x9F70, bytes((lc,)))
                   + tlv.encode(0xC5, privileges) + tlv.encode(0xCC, state.isd_aid))
        for aid, lc, privileges in entries
    )
    return ResponseAPDU(body, OK)


def get_data(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """GET DATA: IIN 42, CIN 45, card data 66, key information E0, CPLC 9F7F (GPC 2.3 §11.3)."""
    state = ctx.state
    tag = (cmd.p1 << 8) | cmd.p2
    serial = state.serial.to_bytes(8, "big")
    if tag == 0x0042:
        value = tlv.encode(0x42, state.kdd[:2])
    elif tag == 0x0045:
        value = tlv.encode(0x45, serial)
    elif tag == 0x0066:
        value = tlv.encode(0x66, tlv.encode(0x73, tlv.encode(0x06, bytes.fromhex(
            "2A864886FC6B01")) + tlv.encode(0x64, tlv.encode(0x06, bytes.fromhex(
                "2A864886FC6B040370")))))
    elif tag == 0x00E0:
        info = bytes((0x01, state.keys.kvn, 0x88, len(state.keys.enc)))
        value = tlv.encode(0xE0, b"".join(
            tlv.encode(0xC0, bytes((i,)) + info[1:]) for i in (1, 2, 3)))
    elif tag == 0x9F7F:
        cplc = bytearray(42)
        cplc[0:2] = state.kdd[:2]
        cplc[11:15] = serial[-4:]
        value = tlv.encode(0x9F7F, bytes(cplc))
    else:
        raise CardError(SW.REFERENCE_DATA_NOT_FOUND, f"GET DATA tag {tag:04X}")
    if cmd.le is not None and cmd.le not in (256, 65536) and cmd.le != len(value):
        # ISO 7816-4 §5.6: tell the terminal the exact length to ask for.
        return ResponseAPDU(b"", 0x6C00 | (len(value) & 0xFF))
    return ResponseAPDU(value, OK)


ISD_COMMANDS = {
    0xD8: put_key,
    0xF0: set_status,
    0xF2: get_status,
    0xCA: get_data,
}
