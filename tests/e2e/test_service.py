"""scripts/ick.service passes `systemd-analyze verify`, as installed by `scripts/install
--service` (which points /usr/local/lib/ick at the repository's .venv)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALLED_PYTHON = "/usr/local/lib/ick/bin/python"


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.fixture
def analyze() -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is missing: install package systemd (scripts/install does)")


def render(tmp_path: Path, text: str) -> Path:
    """The unit as installed, its Python this test run's (the link may not exist here)."""
    unit = tmp_path / "ick.service"
    unit.write_text(text.replace(INSTALLED_PYTHON, sys.executable))
    return unit


def test_the_service_unit_passes_systemd_analyze_verify(analyze: None, tmp_path: Path) -> None:
    text = (REPO / "scripts" / "ick.service").read_text()
    assert f"ExecStart={INSTALLED_PYTHON} -I -m ick.daemon --config /etc/ick/ick.yaml" in text
    result = verify(render(tmp_path, text))
    assert (result.returncode, result.stderr) == (0, "")


def test_verify_would_catch_a_broken_unit(analyze: None, tmp_path: Path) -> None:
    text = (REPO / "scripts" / "ick.service").read_text()
    broken = render(tmp_path, text.replace(INSTALLED_PYTHON, "/nonexistent/python"))
    result = verify(broken)
    assert result.returncode != 0
    assert "/nonexistent/python is not executable" in result.stderr



def test_the_install_script_links_the_python_the_unit_runs() -> None:
    install = (REPO / "scripts" / "install").read_text()
    venv = INSTALLED_PYTHON.removesuffix("/bin/python")
    assert f'ln -sfn "$(pwd)/.venv" {venv}' in install
