"""Secrets at rest (a Stripe secret key): encrypted with Fernet (AES-128-CBC and HMAC-SHA256, from
the `cryptography` package) before they reach the database, decrypted when read.

The keys come from the setting ENCRYPTION_KEYS (e.g. the environment variable CONSOLE_ENCRYPTION_KEYS,
a JSON list) or else from `instance/encryption_keys`, made on first use (mode 0600, never committed).
The first key encrypts; every key decrypts, so a key can be rotated without a moment where stored
secrets cannot be read: `flask --app app encryption rotate` (see app/cli.py).
"""

import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

KEYS_FILE = "encryption_keys"


class UnreadableSecret(Exception):
    """A stored secret that none of the keys decrypts (the keys were lost or replaced)."""


def keys() -> list[str]:
    """The encryption keys, newest first."""
    configured = current_app.config.get("ENCRYPTION_KEYS")
    if configured:
        return list(configured)
    path = Path(current_app.instance_path) / KEYS_FILE
    if not path.exists():
        write_keys([Fernet.generate_key().decode()], exclusive=True)
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def write_keys(new_keys: list[str], exclusive: bool = False) -> None:
    """Replace the instance folder's keys, atomically (a reader sees the old file or the new, whole).
    `exclusive`: only when there is none yet (another worker may have just made it)."""
    instance = Path(current_app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=instance, prefix=".encryption_keys.")  # mode 0600
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(new_keys) + "\n")
    if exclusive:
        try:
            os.link(tmp, instance / KEYS_FILE)
        except FileExistsError:
            pass
        os.unlink(tmp)
    else:
        os.replace(tmp, instance / KEYS_FILE)


def _box() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys()])


def encrypt(secret: str) -> str:
    return _box().encrypt(secret.encode()).decode()


def decrypt(stored: str) -> str:
    try:
        return _box().decrypt(stored.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret(
            "A stored secret cannot be decrypted with the configured encryption keys (ENCRYPTION_KEYS or "
            "instance/encryption_keys): restore the key it was encrypted with."
        ) from None


def reencrypt(stored: str) -> str:
    """The secret encrypted with the first key (for rotation)."""
    try:
        return _box().rotate(stored.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret("A stored secret cannot be decrypted with the configured encryption keys.") from None
