"""`ick doctor`: what this host lacks for each kind of action, and which package gives it; which
notification channels it can send by, the ick.yaml settings each is configured by, and (with
--config) those settings and whether each channel's server answers."""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

import click

from ick.cli.context import json_option, print_json

if TYPE_CHECKING:
    from ick.config import Settings


def tools() -> list[tuple[str, str, str]]:
    """(command, Debian package, what needs it) for every tool an action type or a place
    names, each once, from the action type records."""
    from ick.runners.catalog import ACTION_TYPES
    from ick.runners.places import PLACE_TOOLS

    needs: dict[str, tuple[str, list[str]]] = {}
    for tool in [t for a in ACTION_TYPES for t in a.tools] + list(PLACE_TOOLS):
        package, purposes = needs.setdefault(tool.command, (tool.package, []))
        if tool.purpose not in purposes:
            purposes.append(tool.purpose)
    return [(command, package, " and ".join(purposes))
            for command, (package, purposes) in needs.items()]


def nspawn_tmpfs_ok() -> bool:
    try:
        with open("/proc/mounts") as f:
            return any(
                line.split()[1] == "/run/systemd/nspawn" and line.split()[2] == "tmpfs"
                for line in f
            )
    except OSError:
        return False


def overlayfs_ok() -> bool:
    """overlayfs is in the kernel, or a module the kernel loads on the first mount."""
    try:
        with open("/proc/filesystems") as f:
            if any(line.split()[-1:] == ["overlay"] for line in f):
                return True
    except OSError:
        pass
    return os.path.isdir(f"/lib/modules/{os.uname().release}/kernel/fs/overlayfs")


def checks(settings: Settings | None = None) -> list[dict[str, str]]:
    """Each check: its name, a state (ok, missing, warning, note) and what to do about it;
    with the daemon's settings, whether each channel's server answers too."""
    found = []
    for command, package, purpose in tools():
        path = shutil.which(command)
        if path:
            found.append({"check": command, "state": "ok", "detail": path})
        else:
            found.append({"check": command, "state": "missing",
                          "detail": f"needed for {purpose}; install package {package}"})
    if os.geteuid() != 0:
        found.append({"check": "root", "state": "warning",
                      "detail": "not root: chroot and container actions need root"})
    if overlayfs_ok():
        found.append({"check": "overlayfs", "state": "ok", "detail": ""})
    else:
        found.append({"check": "overlayfs", "state": "missing",
                      "detail": "needed for populate_systree; load the kernel module overlay "
                                "(modprobe overlay)"})
    if nspawn_tmpfs_ok():
        found.append({"check": "tmpfs on /run/systemd/nspawn", "state": "ok", "detail": ""})
    else:
        found.append({"check": "tmpfs on /run/systemd/nspawn", "state": "note",
                      "detail": "no tmpfs on /run/systemd/nspawn: systemd-nspawn refuses to "
                                "start without it; `ick serve` mounts one when it runs as root"})
    found += _arches()
    found += channel_checks(settings)
    return found


def channel_checks(settings: Settings | None = None) -> list[dict[str, str]]:
    """One check per notification channel, from the channel records: usable on this host or
    not, and which ick.yaml settings it sends through; given the daemon's settings, what
    they say and whether the channel's server answers (a warning when it does not)."""
    import asyncio

    from ick.notify.channels import CHANNELS

    found = []
    for channel in CHANNELS:
        problem = channel.usable()
        name = f"notify by {channel.key}"
        if problem is not None:
            found.append({"check": name, "state": "missing", "detail": problem})
        elif settings is not None and channel.probe is not None:
            ok, detail = asyncio.run(channel.probe(settings))
            found.append({"check": name, "state": "ok" if ok else "warning",
                          "detail": detail})
        else:
            detail = f"through the {channel.settings}: settings of ick.yaml" \
                if channel.settings else ""
            found.append({"check": name, "state": "ok", "detail": detail})
    return found


def _line(check: dict[str, str]) -> str:
    state, name, detail = check["state"], check["check"], check["detail"]
    if state == "ok":  # a tool's detail is where it is; another check's, what it found
        shown = f" ({detail})" if detail.startswith("/") else f" {detail}" if detail else ""
        return f"ok       {name}{shown}"
    if state == "missing":
        return f"missing  {name}: {detail}"
    if state == "info":
        return f"{name:<8} {detail}"
    if state == "warning" and name.startswith("notify by "):
        return f"warning  {name}: {detail}"
    return f"{state:<8} {detail}"


@click.command()
@click.option("--config", "config", metavar="FILE", default=None,
              help="The daemon's settings (ick.yaml): show each channel's and ask its server.")
@json_option
def doctor(config: str | None, as_json: bool) -> None:
    """Check the host for what ick's actions need (exit 1 if something is missing)."""
    settings = None
    if config is not None:
        from ick.config import load_settings

        settings = load_settings(config)
    found = checks(settings)
    if as_json:
        print_json(found)
    else:
        for check in found:
            click.echo(_line(check))
    if any(c["state"] in ("missing", "warning") for c in found):
        raise SystemExit(1)


def _arches() -> list[dict[str, str]]:
    """Which Debian architectures this host runs: its own, and what qemu-user emulates."""
    from ick.runners.arches import BINFMT, emulated_arches, host_arch, runnable_arches

    found = []
    emulated = emulated_arches()
    if emulated:
        found.append({"check": "binfmt emulation (qemu-user)", "state": "ok",
                      "detail": f"registered for {', '.join(emulated)}"})
    elif not BINFMT.joinpath("status").exists():
        found.append({"check": "binfmt", "state": "note",
                      "detail": f"binfmt_misc is not mounted at {BINFMT}: no foreign "
                                "architectures; `ick serve` mounts it when it runs as root"})
    else:
        found.append({"check": "binfmt", "state": "note",
                      "detail": "no binfmt emulation registered: for foreign architectures "
                                "(debian_arch) install packages qemu-user-static and "
                                "binfmt-support"})
    runs = ", ".join(runnable_arches()) or host_arch() or "?"
    found.append({"check": "arches", "state": "info", "detail": f"this host runs: {runs}"})
    return found
