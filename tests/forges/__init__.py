"""Tests of ick/forges; payloads/ holds the forges' own webhook payloads (see its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> bytes:
    """A payload file's bytes, as the forge sent them (signatures are over these)."""
    return (PAYLOADS / name).read_bytes()


def doc(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(payload(name))
    return found
