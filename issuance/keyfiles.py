"""Key files on disk: created once with mode 0600 in a 0700 folder, refused when others can read them."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


class KeyFileError(ValueError):
    """A key file or folder is missing, unreadable or open to other users."""


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed and make it 0700: only the service account enters."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to a new or truncated file that only the owner can read (0600 from the start)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)  # also when the file existed with a looser mode
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _temporary(path: Path) -> Path:
    # Unique per process and thread: two racing creators never share a temporary file.
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")


def replace_private(path: Path, data: bytes) -> None:
    """Replace a small private file atomically: readers see the old or the new content, never half."""
    private_dir(path.parent)
    tmp = _temporary(path)
    write_private(tmp, data)
    os.replace(tmp, path)


def read_private(path: Path) -> bytes:
    """The content of a key file, refused when group or others may read it (as ssh does)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(f"key file {path}: mode {mode:04o} lets other users read it; chmod 600 it")
    return path.read_bytes()


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The key in `path`; on first use `make()` one, written atomically so racing processes agree."""
    if not path.exists():
        private_dir(path.parent)
        tmp = _temporary(path)
        write_private(tmp, make())
        try:
            os.link(tmp, path)  # fails if another process won the race: keep theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return read_private(path)
