"""Bearer tokens for the web app: HMAC-signed, short-lived, naming a user and a server-side session."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from issuance.keyfiles import read_or_create

TOKEN_SECONDS = 15 * 60  # renewed while in use (POST /api/session/renew), up to one shift
SECRET_ENV = "ISSUANCE_SECRET_KEY"
SECRET_FILE = "session.secret"
MAX_ID = 2**31 - 1  # ids are 32-bit integer columns on both databases
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")


class TokenError(ValueError):
    """A token is malformed, forged or expired."""


@dataclass(frozen=True)
class Claims:
    """What a valid token says."""

    user_id: int
    session_id: str
    expires: int


def load_secret(key_dir: Path) -> bytes:
    """The signing secret from $ISSUANCE_SECRET_KEY, else a 0600 file in the key folder."""
    raw = os.environ.get(SECRET_ENV)
    if raw:
        return raw.encode()
    return read_or_create(key_dir / SECRET_FILE, lambda: os.urandom(32))


def _sign(secret: bytes, body: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def issue(secret: bytes, user_id: int, session_id: str, expires: int) -> str:
    """A token for `user_id` in session `session_id`, valid until `expires` (Unix time)."""
    body = f"{user_id}.{session_id}.{expires}".encode()
    return f"{body.decode()}.{_sign(secret, body)}"


def check(secret: bytes, token: str, now: float | None = None) -> Claims:
    """The claims of a token whose signature and lifetime are good."""
    try:
        user_id, session_id, expires, signature = token.split(".", 3)
        body = f"{user_id}.{session_id}.{expires}".encode()
        valid = hmac.compare_digest(signature.encode(), _sign(secret, body).encode())
        claims = Claims(int(user_id), session_id, int(expires))
    except (ValueError, UnicodeEncodeError) as exc:
        raise TokenError("token: malformed") from exc
    if not valid:
        raise TokenError("token: bad signature")
    if not (0 < claims.user_id <= MAX_ID and _SESSION_ID.match(claims.session_id)):
        raise TokenError("token: names no possible user or session")
    if claims.expires < (now or time.time()):
        raise TokenError("token: expired, sign in again")
    return claims
