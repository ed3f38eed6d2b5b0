"""`ick doctor`: what this host lacks for each kind of action, and which package gives it."""

from __future__ import annotations

import os
import shutil

import click

from ick.cli.main import cli


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


@cli.command()
def doctor() -> None:
    """Check the host for what ick's actions need."""
    problems = 0
    for command, package, purpose in tools():
        path = shutil.which(command)
        if path:
            click.echo(f"ok       {command} ({path})")
        else:
            problems += 1
            click.echo(f"missing  {command}: needed for {purpose}; install package {package}")
    if os.geteuid() != 0:
        problems += 1
        click.echo("warning  not root: chroot and container actions need root")
    if overlayfs_ok():
        click.echo("ok       overlayfs")
    else:
        problems += 1
        click.echo("missing  overlayfs: needed for populate_systree; load the kernel module "
                   "overlay (modprobe overlay)")
    if nspawn_tmpfs_ok():
        click.echo("ok       tmpfs on /run/systemd/nspawn")
    else:
        click.echo("note     no tmpfs on /run/systemd/nspawn: systemd-nspawn refuses to start "
                   "without it; `ick serve` mounts one when it runs as root")
    _arches()
    if problems:
        raise SystemExit(1)


def _arches() -> None:
    """Which Debian architectures this host runs: its own, and what qemu-user emulates."""
    from ick.runners.arches import BINFMT, emulated_arches, host_arch, runnable_arches

    emulated = emulated_arches()
    if emulated:
        click.echo(f"ok       binfmt emulation (qemu-user) registered for {', '.join(emulated)}")
    elif not BINFMT.joinpath("status").exists():
        click.echo(f"note     binfmt_misc is not mounted at {BINFMT}: no foreign architectures; "
                   "`ick serve` mounts it when it runs as root")
    else:
        click.echo("note     no binfmt emulation registered: for foreign architectures "
                   "(debian_arch) install packages qemu-user-static and binfmt-support")
    click.echo(f"arches   this host runs: {', '.join(runnable_arches()) or host_arch() or '?'}")
