"""Debian architectures: the host's, those qemu-user emulates through a registered binfmt
handler, and the one a root file system was built for."""

from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path

BINFMT = Path("/proc/sys/fs/binfmt_misc")
ARCH_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")

# qemu's name of an architecture -> Debian's
QEMU_ARCHES = {
    "aarch64": ("arm64",), "arm": ("armhf", "armel"), "i386": ("i386",),
    "x86_64": ("amd64",), "riscv64": ("riscv64",), "ppc64le": ("ppc64el",),
    "ppc64": ("ppc64",), "ppc": ("powerpc",), "s390x": ("s390x",),
    "mips64el": ("mips64el",), "mipsel": ("mipsel",), "mips": ("mips",),
    "loongarch64": ("loong64",), "alpha": ("alpha",), "hppa": ("hppa",), "m68k": ("m68k",),
    "sh4": ("sh4",), "sparc64": ("sparc64",),
}


@functools.cache
def host_arch() -> str | None:
    """`dpkg --print-architecture`: this host's Debian architecture (None without dpkg)."""
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


def runnable_arches(binfmt: Path = BINFMT) -> list[str]:
    """What this host runs: its own architecture, then the emulated ones."""
    return list(dict.fromkeys(a for a in (host_arch(), *emulated_arches(binfmt)) if a))


def tree_arch(root: Path) -> str | None:
    """The architecture of the Debian tree at `root`: that of its first installed package
    that is not `Architecture: all`, from dpkg's status file; None if it is not a tree."""
    try:
        with open(root / "var/lib/dpkg/status", encoding="utf-8", errors="replace") as status:
            for line in status:
                if line.startswith("Architecture:"):
                    arch = line.split(":", 1)[1].strip()
                    if arch != "all" and ARCH_RE.match(arch):
                        return arch
    except OSError:
        return None
    return None
