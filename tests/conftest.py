"""Shared fixtures: a real daemon subprocess per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon import Daemon


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Start daemons with settings (as in ick.yaml); all are stopped after the test."""
    started: list[Daemon] = []

    def start(settings: dict[str, Any] | None = None, workers: int = 2,
              name: str = "state") -> Daemon:
        daemon = Daemon(tmp_path / name, settings, workers).start()
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.stop()


@pytest.fixture
def daemon(start_daemon: Callable[..., Daemon]) -> Daemon:
    """A running `ick serve` with default settings and two workers."""
    return start_daemon()
