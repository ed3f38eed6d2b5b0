"""A worker's own labels: `arch` (its Debian architecture, plus each one qemu-user emulates
through a registered binfmt handler) and `host`, merged with the operator's."""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from pathlib import Path

from ick.runners import arches

BINFMT = arches.BINFMT
QEMU_ARCHES = arches.QEMU_ARCHES
emulated_arches = arches.emulated_arches


def debian_arch() -> str | None:
    return arches.host_arch()


def own_labels(extra: Mapping[str, Sequence[str]], binfmt: Path = BINFMT) -> dict[
        str, tuple[str, ...]]:
    """arch and host as this machine has them, then the operator's labels (which may add
    values to arch, or replace host)."""
    found = [a for a in (debian_arch(), *emulated_arches(binfmt)) if a]
    labels: dict[str, tuple[str, ...]] = {
        "arch": tuple(dict.fromkeys(found)), "host": (socket.gethostname(),)}
    for key, values in extra.items():
        if key == "arch":
            labels["arch"] = tuple(dict.fromkeys((*labels["arch"], *values)))
        else:
            labels[key] = tuple(dict.fromkeys(values))
    return labels
