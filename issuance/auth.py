"""Bearer tokens for the web app: HMAC-signed, short-lived, carrying only the user id."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from pathlib import Path

TOKEN_SECONDS = 8 * 3600  # one counter shift


class TokenError(ValueError):
    """A token is malformed, forged or expired."""


def load_secret(data_dir: Path) -> bytes:
    """The signing secret from $ISSUANCE_SECRET_KEY, else a 0600 file in the data dir."""
    raw = os.environ.get("ISSUANCE_SECRET_KEY")
    if raw:
        return raw.encode()
    path = data_dir / "session.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(32))
    return path.read_bytes()


def _sign(secret: bytes, body: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def issue(secret: bytes, user_id: int, now: float | None = None) -> str:
    """A token for `user_id`, valid for one shift."""
    expires = int((now or time.time()) + TOKEN_SECONDS)
    body = f"{user_id}.{expires}".encode()
    return f"{body.decode()}.{_sign(secret, body)}"


def check(secret: bytes, token: str, now: float | None = None) -> int:
    """The user id a valid token names."""
    try:
        user_id, expires, signature = token.split(".", 2)
        body = f"{user_id}.{expires}".encode()
        valid = hmac.compare_digest(signature, _sign(secret, body))
        expired = int(expires) < (now or time.time())
        uid = int(user_id)
    except ValueError as exc:
        raise TokenError("token: malformed") from exc
    if not valid:
        raise TokenError("token: bad signature")
    if expired:
        raise TokenError("token: expired, sign in again")
    return uid
