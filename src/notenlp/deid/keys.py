"""The surrogate key: 32 random bytes, hex, in an owner-only file under the sealed folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_FILE = "deid_secret.hex"


def load_or_create_secret(sealed_dir: Path) -> str:
    """Read the secret, creating it (file 0600 in a 0700 folder) on first use."""
    sealed_dir = Path(sealed_dir)
    sealed_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(sealed_dir, 0o700)
    path = sealed_dir / SECRET_FILE
    try:
        # O_EXCL: two workers starting together cannot both write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        secret = path.read_text(encoding="utf-8").strip()
        if len(secret) != 64 or not all(ch in "0123456789abcdef" for ch in secret):
            raise ValueError(f"{path} does not hold a 64-character hex secret") from None
        return secret
    secret = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return secret
