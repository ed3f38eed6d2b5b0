"""`ick doctor` (ick/cli/doctor.py) against a real daemon, on a host that lacks tools."""

from __future__ import annotations

from collections.abc import Callable

from tests.daemon import Daemon


def test_doctor_names_the_package_of_each_missing_tool(path_without: Callable[..., None],
                                                       daemon: Daemon) -> None:
    path_without("debootstrap", "systemd-nspawn", "zstd")
    result = daemon.ick("doctor")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "missing  debootstrap: needed for the debootstrap action; install package "\
           "debootstrap" in lines
    assert "missing  systemd-nspawn: needed for where: container; install package "\
           "systemd-container" in lines
    assert "missing  zstd: needed for archive and populate actions; install package zstd" in lines
