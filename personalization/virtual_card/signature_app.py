"""The e-signature application: key pair, PIN/PUK, COMPUTE DIGITAL SIGNATURE (ISO/IEC 7816-8)."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from personalization import tlv
from personalization.apdu import CommandAPDU, ResponseAPDU
from personalization.lds.profile import PIN_BLOCK, PIN_REF, PUK_REF
from personalization.status_words import SW, CardError
from personalization.virtual_card.context import Context
from personalization.virtual_card.state import PinState

OK = SW.OK
OID_P256 = bytes.fromhex("2A8648CE3D030107")


def _digest(salt: bytes, block: bytes) -> bytes:
    return hashlib.sha256(salt + block).digest()


def _set(ctx: Context, pin: PinState, block: bytes) -> None:
    _check_block(block)
    pin.salt = ctx.rng(16)
    pin.digest = _digest(pin.salt, block)
    pin.tries_left = pin.max_tries
    ctx.dirty = True


def _check_block(block: bytes) -> None:
    digits = block.rstrip(b"\xff")
    if len(block) != PIN_BLOCK or not digits.isdigit() or len(digits) < 4:
        raise CardError(SW.WRONG_DATA, "PIN block format")


def _verify(ctx: Context, pin: PinState, block: bytes) -> None:
    """Compare and count down: 63Cx on a mismatch (63C0 on the last), then 6983 (ISO/IEC 7816-4 §11.5.6)."""
    if not pin.is_set:
        raise CardError(SW.REFERENCE_DATA_NOT_USABLE, "reference data not set")
    if pin.tries_left == 0:
        raise CardError(SW.AUTH_METHOD_BLOCKED)
    ctx.dirty = True
    if hmac.compare_digest(_digest(pin.salt, block), pin.digest):
        pin.tries_left = pin.max_tries
        return
    pin.tries_left -= 1
    raise CardError(0x63C0 | pin.tries_left)


def _pin(ctx: Context, ref: int) -> PinState:
    if ref == PIN_REF:
        return ctx.state.pin
    if ref == PUK_REF:
        return ctx.state.puk
    raise CardError(SW.REFERENCE_DATA_NOT_FOUND, "reference")


def verify(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """VERIFY; without data it reports the retry counter (ISO/IEC 7816-4 §11.5.6)."""
    if cmd.p1 != 0:
        raise CardError(SW.INCORRECT_P1P2)
    pin = _pin(ctx, cmd.p2)
    if not cmd.data:
        if pin.tries_left == 0:
            raise CardError(SW.AUTH_METHOD_BLOCKED)
        verified = cmd.p2 == PIN_REF and ctx.pin_verified
        return ResponseAPDU(b"", OK if verified else 0x63C0 | pin.tries_left)
    if cmd.p2 != PIN_REF:
        raise CardError(SW.INCORRECT_P1P2, "VERIFY applies to the PIN")
    ctx.pin_verified = False
    _verify(ctx, pin, cmd.data)
    ctx.pin_verified = True
    return ResponseAPDU(b"", OK)


def change_reference_data(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """CHANGE REFERENCE DATA: P1=00 old||new; P1=01 initial value under SCP03 (§11.5.7)."""
    pin = _pin(ctx, cmd.p2)
    if cmd.p1 == 0x01:
        if not ctx.personalizing():
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "initial PIN needs the channel")
        _set(ctx, pin, cmd.data)
        return ResponseAPDU(b"", OK)
    if cmd.p1 != 0x00 or cmd.p2 != PIN_REF:
        raise CardError(SW.INCORRECT_P1P2)
    if len(cmd.data) != 2 * PIN_BLOCK:
        raise CardError(SW.WRONG_LENGTH, "old and new PIN blocks")
    _verify(ctx, pin, cmd.data[:PIN_BLOCK])
    _set(ctx, pin, cmd.data[PIN_BLOCK:])
    return ResponseAPDU(b"", OK)


def reset_retry_counter(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """RESET RETRY COUNTER with the PUK; P1=00 also sets a new PIN (ISO/IEC 7816-4 §11.5.10)."""
    if cmd.p2 != PIN_REF or cmd.p1 not in (0x00, 0x01):
        raise CardError(SW.INCORRECT_P1P2)
    expected = 2 * PIN_BLOCK if cmd.p1 == 0x00 else PIN_BLOCK
    if len(cmd.data) != expected:
        raise CardError(SW.WRONG_LENGTH, "PUK (and new PIN) blocks")
    _verify(ctx, ctx.state.puk, cmd.data[:PIN_BLOCK])
    pin = ctx.state.pin
    if cmd.p1 == 0x00:
        _set(ctx, pin, cmd.data[PIN_BLOCK:])
    else:
        pin.tries_left = pin.max_tries
    return ResponseAPDU(b"", OK)


def _public_key_do(key: ec.EllipticCurvePrivateKey) -> bytes:
    point = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return tlv.encode(0x7F49, tlv.encode(0x06, OID_P256) + tlv.encode(0x86, point))


def _private_key(ctx: Context) -> ec.EllipticCurvePrivateKey:
    if ctx.state.signing_key is None:
        raise CardError(SW.REFERENCE_DATA_NOT_FOUND, "no key pair")
    return ec.derive_private_key(int.from_bytes(ctx.state.signing_key, "big"), ec.SECP256R1())


def generate_key_pair(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """GENERATE ASYMMETRIC KEY PAIR (P1=80) or read the public key (P1=81) (ISO/IEC 7816-8 §5.1)."""
    if cmd.p1 == 0x81:
        return ResponseAPDU(_public_key_do(_private_key(ctx)), OK)
    if cmd.p1 != 0x80 or cmd.p2 != 0:
        raise CardError(SW.INCORRECT_P1P2)
    if not ctx.personalizing():
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "key generation needs the channel")
    # Rejection-sample a scalar from the card's RNG so tests can make it reproducible.
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    while True:
        scalar = int.from_bytes(ctx.rng(32), "big")
        if 0 < scalar < order:
            break
    ctx.state.signing_key = scalar.to_bytes(32, "big")
    ctx.dirty = True
    return ResponseAPDU(_public_key_do(_private_key(ctx)), OK)


def perform_security_operation(ctx: Context, cmd: CommandAPDU) -> ResponseAPDU:
    """PSO COMPUTE DIGITAL SIGNATURE over a SHA-256 hash, plain r||s (ISO/IEC 7816-8 §11)."""
    if (cmd.p1, cmd.p2) != (0x9E, 0x9A):
        raise CardError(SW.INCORRECT_P1P2, "only COMPUTE DIGITAL SIGNATURE")
    if not ctx.pin_verified:
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "VERIFY PIN first")
    if len(cmd.data) != 32:
        raise CardError(SW.WRONG_LENGTH, "SHA-256 hash expected")
    signature = _private_key(ctx).sign(cmd.data, ec.ECDSA(Prehashed(SHA256())))
    r, s = decode_dss_signature(signature)
    return ResponseAPDU(r.to_bytes(32, "big") + s.to_bytes(32, "big"), OK)


SIGNATURE_COMMANDS = {
    0x20: verify,
    0x24: change_reference_data,
    0x2C: reset_retry_counter,
    0x47: generate_key_pair,
    0x2A: perform_security_operation,
}
