"""A remote worker's own key, kept in its state directory: the controller knows a worker that
was started again (same key) from another live worker under the same name and token."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def instance_key(state_dir: Path) -> str:
    """STATE/instance (0600), made at the first start: 32 hexadecimal digits."""
    path = state_dir / "instance"
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if len(key) == 32 and all(c in "0123456789abcdef" for c in key):
        return key
    key = secrets.token_hex(16)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    os.replace(tmp, path)
    return key
