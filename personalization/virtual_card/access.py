"""eMRTD access and authentication commands: MSE:Set AT, GENERAL AUTHENTICATE, INTERNAL
AUTHENTICATE, and on-card generation of the CA and AA keys (ICAO 9303-11 §4.4, §6.1, §6.2).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256

from personalization import tlv
from personalization.apdu import CLA_CHAINING, CommandAPDU, ResponseAPDU
from personalization.lds import profile
from personalization.protocol import pace
from personalization.protocol import security_infos as si
from personalization.protocol.aes_sm import KDF_PACE, icao_kdf, session_from_secret
from personalization.protocol.chip_auth import MSE_SET_AT_CA
from personalization.protocol.ec_params import DomainParameters, by_id, public_key_do, shared_x
from personalization.status_words import SW, CardError
from personalization.virtual_card.context import Context
from personalization.virtual_card.pace_app import PaceChip

OK = SW.OK
CHALLENGE_LEN = 8
_KEYS = {
    profile.KEY_CHIP_AUTHENTICATION: ("ca_key", profile.CA_PARAMETER_ID),
    profile.KEY_ACTIVE_AUTHENTICATION: ("aa_key", profile.AA_PARAMETER_ID),
}


def _mse_objects(data: bytes) -> dict[int, bytes]:
    try:
        return {item.tag: item.value for item in tlv.iterate(data)}
    except tlv.TlvError as exc:
        raise CardError(SW.WRONG_DATA, str(exc)) from exc


def _pace_password(ctx: Context, reference: bytes | None) -> bytes:
    state = ctx.state
    secret = {b"\x01": state.pace_mrz, b"\x02": state.can}.get(reference or b"")
    if secret is None:
        raise CardError(SW.REFERENCE_DATA_NOT_FOUND, "PACE password")
    return secret


def _set_at_pace(ctx: Context, objects: dict[int, bytes]) -> None:
    if not profile.OFFERS.pace or objects.get(0x80) != si.oid_content(si.PACE_ECDH_GM_AES_128):
        raise CardError(SW.REFERENCE_DATA_NOT_FOUND, "PACE protocol")
    parameter = objects.get(0x84, bytes((profile.PACE_PARAMETER_ID,)))
    if parameter != bytes((profile.PACE_PARAMETER_ID,)):
        raise CardError(SW.REFERENCE_DATA_NOT_FOUND, "PACE domain parameters")
    secret = _pace_password(ctx, objects.get(0x83))
    ctx.ca_armed = False
    ctx.pace = PaceChip(by_id(profile.PACE_PARAMETER_ID), icao_kdf(secret, KDF_PACE), ctx.rng)


def _set_at_ca(ctx: Context, objects: dict[int, bytes]) -> None:
    if ctx.sm is None:
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "chip authentication needs SM")
    offered = profile.OFFERS.chip_authentication and ctx.state.ca_key is not None
    if objects.get(0x80) != si.oid_content(si.CA_ECDH_AES_128) or not offered:
        raise CardError(SW.REFERENCE_DATA_NOT_FOUND, "chip authentication protocol or key")
    ctx.pace = None
    ctx.ca_armed = True


def manage_security_environment(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """MSE:Set AT for PACE (C1A4) or chip authentication (41A4) (ISO/IEC 7816-4 §11.5.11)."""
    objects = _mse_objects(cmd.data)
    if (cmd.p1, cmd.p2) == pace.MSE_SET_AT_PACE:
        _set_at_pace(ctx, objects)
    elif (cmd.p1, cmd.p2) == MSE_SET_AT_CA:
        _set_at_ca(ctx, objects)
    else:
        raise CardError(SW.INCORRECT_P1P2, "MSE variant")
    return ResponseAPDU(b"", OK)


def _pace_step(ctx: Context, cmd: CommandAPDU, run: PaceChip) -> ResponseAPDU:
    # Steps 1-3 carry the chaining bit, the last does not (ICAO 9303-11 §4.4.4.2).
    if bool(cmd.cla & CLA_CHAINING) != (run.step < 4):
        ctx.pace = None
        raise CardError(0x6883 if run.step == 4 else SW.CONDITIONS_NOT_SATISFIED, "PACE step")
    try:
        answer = run.authenticate(cmd.data)
    except ValueError as exc:
        ctx.pace = None
        raise CardError(SW.WRONG_DATA, f"PACE: {exc}") from exc
    except CardError:
        ctx.pace = None
        raise
    if run.session is not None:
        ctx.pace = None
        ctx.sm = run.session
    return ResponseAPDU(answer, OK)


def _chip_authentication(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """Derive the new session from the terminal's ephemeral key (ICAO 9303-11 §6.2.4).

    The answer goes out under the old session; the caller holds it, so ctx.sm can change now.
    """
    ctx.ca_armed = False
    params = by_id(profile.CA_PARAMETER_ID)
    key = ctx.state.ca_key
    if key is None or ctx.sm is None:
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "chip authentication not armed")
    try:
        peer = params.decode_point(pace.read_dynamic(cmd.data, 0x80))
    except ValueError as exc:
        raise CardError(SW.WRONG_DATA, f"CA: {exc}") from exc
    ctx.sm = session_from_secret(shared_x(int.from_bytes(key, "big"), peer, params))
    return ResponseAPDU(pace.dynamic_data(0, b""), OK)


def general_authenticate(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """GENERAL AUTHENTICATE for the armed protocol (ISO/IEC 7816-4 §11.5.5)."""
    if cmd.p1 or cmd.p2:
        raise CardError(SW.INCORRECT_P1P2)
    if ctx.pace is not None:
        return _pace_step(ctx, cmd, ctx.pace)
    if ctx.ca_armed and not cmd.cla & CLA_CHAINING:
        return _chip_authentication(ctx, cmd)
    raise CardError(SW.CONDITIONS_NOT_SATISFIED, "MSE:Set AT first")


def internal_authenticate(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """INTERNAL AUTHENTICATE: ECDSA-SHA256 over the challenge, plain r||s (ICAO 9303-11 §6.1)."""
    if cmd.p1 or cmd.p2:
        raise CardError(SW.INCORRECT_P1P2)
    if ctx.sm is None:
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "active authentication needs SM")
    if ctx.state.aa_key is None or not profile.OFFERS.active_authentication:
        raise CardError(SW.REFERENCE_DATA_NOT_FOUND, "no active authentication key")
    if len(cmd.data) != CHALLENGE_LEN:
        raise CardError(SW.WRONG_LENGTH, "challenge is 8 bytes")
    params = by_id(profile.AA_PARAMETER_ID)
    key = params.private_key(int.from_bytes(ctx.state.aa_key, "big"))
    r, s = decode_dss_signature(key.sign(cmd.data, ec.ECDSA(SHA256())))
    return ResponseAPDU(r.to_bytes(params.size, "big") + s.to_bytes(params.size, "big"), OK)


def _public_key_do(params: DomainParameters, scalar: bytes) -> bytes:
    point = params.encode_point(params.generator * int.from_bytes(scalar, "big"))
    return public_key_do(si.oid_content(params.oid), point)


def generate_key_pair(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """GENERATE ASYMMETRIC KEY PAIR for the CA (P2=01) or AA (P2=02) key; P1=81 reads it back.

    ISO/IEC 7816-8 §5.1; the private key never leaves the card, the answer is 7F49 {06, 86}.
    """
    if cmd.p2 not in _KEYS or cmd.p1 not in (0x80, 0x81):
        raise CardError(SW.INCORRECT_P1P2)
    field_name, parameter_id = _KEYS[cmd.p2]
    params = by_id(parameter_id)
    if cmd.p1 == 0x80:
        if not ctx.personalizing():
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "key generation needs the channel")
        setattr(ctx.state, field_name, params.random_scalar(ctx.rng).to_bytes(params.size, "big"))
        ctx.dirty = True
    scalar = getattr(ctx.state, field_name)
    if scalar is None:
        raise CardError(SW.REFERENCE_DATA_NOT_FOUND, "no key pair")
    return ResponseAPDU(_public_key_do(params, scalar), OK)


ACCESS_COMMANDS = {
    0x22: manage_security_environment,
    0x86: general_authenticate,
    0x88: internal_authenticate,
}
KEY_COMMANDS = {0x47: generate_key_pair}
