"""ick.config's part for the command-line tool: the three variables `ick` reads (ICK_URL,
ICK_TOKEN, ICK_STATE_DIR). A module of its own, importing next to nothing, because ick.config's
imports (dataclasses, pathlib) cost every `ick` call more than its HTTP request; ick.config
re-exports it, and no other module reads the environment.
"""

from __future__ import annotations

import os
from typing import NamedTuple

DEFAULT_STATE_DIR = "~/.local/share/ick"


class ClientEnvironment(NamedTuple):
    """What the command-line tool takes from its environment."""

    url: str | None  # ICK_URL: the daemon's address
    token: str | None  # ICK_TOKEN
    state_dir: str  # ICK_STATE_DIR, else the default: where the local daemon's admin.token is


def client_environment() -> ClientEnvironment:
    return ClientEnvironment(
        url=os.environ.get("ICK_URL") or None, token=os.environ.get("ICK_TOKEN") or None,
        state_dir=os.environ.get("ICK_STATE_DIR") or os.path.expanduser(DEFAULT_STATE_DIR))
