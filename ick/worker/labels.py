"""A worker's own labels: `arch` (its Debian architecture, plus each one qemu-user emulates
through a registered binfmt handler) and `host`, merged with the operator's."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

BINFMT = Path("/proc/sys/fs/binfmt_misc")

# qemu's name of an architecture -> Debian's
QEMU_ARCHES = {
    "aarch64": ("arm64",), "arm": ("armhf", "armel"), "i386": ("i386",),
    "x86_64": ("amd64",), "riscv64": ("riscv64",), "ppc64le": ("ppc64el",),
    "ppc64": ("ppc64",), "ppc": ("powerpc",), "s390x": ("s390x",),
    "mips64el": ("mips64el",), "mipsel": ("mipsel",), "mips": ("mips",),
    "loongarch64": ("loong64",), "alpha": ("alpha",), "hppa": ("hppa",), "m68k": ("m68k",),
    "sh4": ("sh4",), "sparc64": ("sparc64",),
}


def debian_arch() -> str | None:
    try:
        done = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                              timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def emulated_arches(binfmt: Path = BINFMT) -> list[str]:
    """The Debian architectures an enabled qemu-* binfmt handler registers."""
    found: list[str] = []
    try:
        entries = sorted(binfmt.glob("qemu-*"))
    except OSError:
        return found
    for entry in entries:
        try:
            enabled = entry.read_text().splitlines()[:1] == ["enabled"]
        except OSError:
            continue
        if enabled:
            found += QEMU_ARCHES.get(entry.name.removeprefix("qemu-"), ())
    return found


def own_labels(extra: Mapping[str, Sequence[str]], binfmt: Path = BINFMT) -> dict[
        str, tuple[str, ...]]:
    """arch and host as this machine has them, then the operator's labels (which may add
    values to arch, or replace host)."""
    arches = [a for a in (debian_arch(), *emulated_arches(binfmt)) if a]
    labels: dict[str, tuple[str, ...]] = {
        "arch": tuple(dict.fromkeys(arches)), "host": (socket.gethostname(),)}
    for key, values in extra.items():
        if key == "arch":
            labels["arch"] = tuple(dict.fromkeys((*labels["arch"], *values)))
        else:
            labels[key] = tuple(dict.fromkeys(values))
    return labels
