"""The host programs ick's built-in actions run, and the one-line error when one is missing."""

from __future__ import annotations

import shutil

from ick.errors import ActionError


def require_tool(command: str, package: str) -> str:
    """The full path of `command` on this worker, or an ActionError saying what to install."""
    path = shutil.which(command)
    if path is None:
        raise ActionError(f"{command} is not installed on this worker: install the Debian "
                          f"package {package} (`ick doctor` checks the host)")
    return path
