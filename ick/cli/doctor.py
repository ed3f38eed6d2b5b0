"""`ick doctor`: what this host lacks for each kind of action, and which package gives it."""

from __future__ import annotations

import os
import shutil

import click

from ick.cli.main import cli

# (command, Debian package, what needs it)
TOOLS = [
    ("bash", "bash", "shell actions"),
    ("python3", "python3", "python actions"),
    ("git", "git", "the git action"),
    ("debootstrap", "debootstrap", "the debootstrap action"),
    ("systemd-nspawn", "systemd-container", "where: container"),
    ("unshare", "util-linux", "where: chroot and the debootstrap action"),
    ("chroot", "coreutils", "where: chroot"),
    ("mount", "mount", "where: chroot"),
    ("zstd", "zstd", "archive and populate actions"),
    ("tar", "tar", "archive and populate actions"),
    ("rsync", "rsync", "the rsync action"),
    ("ssh", "openssh-client", "the rsync action"),
    ("reprepro", "reprepro", "the apt_publish action"),
    ("gpg", "gnupg", "signing ick's APT repository"),
    ("dput", "dput-ng", "the dput action"),
]


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
    for command, package, purpose in TOOLS:
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
    if problems:
        raise SystemExit(1)
