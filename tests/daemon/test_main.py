"""`python -I -m ick.daemon`: its own flags, the same as `ick serve`'s, and its settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ick.daemon.__main__ import parser, settings_of


def test_the_flags_override_the_settings_file(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ICK_STATE_DIR", raising=False)
    config = tmp_path / "ick.yaml"
    config.write_text("listen: 127.0.0.1:1234\nworkers: 3\nkeep_builds: 7\n")
    args = parser().parse_args([
        "--config", str(config), "--listen", "[::1]:4321", "--state-dir", str(tmp_path / "s"),
        "--public-url", "https://ci.example.org/", "--debian-mirror", "http://deb.example.org",
        "-v"])
    settings = settings_of(args)
    assert settings.listen == "[::1]:4321" and settings.host_port == ("::1", 4321)
    assert settings.state_dir == tmp_path / "s"
    assert settings.workers == 3 and settings.keep_builds == 7  # from the file
    assert settings.public_url == "https://ci.example.org"
    assert settings.debian_mirror == "http://deb.example.org"
    assert args.verbose


def test_the_state_directory_comes_from_the_environment_unless_a_flag_names_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICK_STATE_DIR", str(tmp_path / "env"))
    assert settings_of(parser().parse_args([])).state_dir == tmp_path / "env"
    given = parser().parse_args(["--state-dir", str(tmp_path / "flag"), "--workers", "0"])
    assert settings_of(given).state_dir == tmp_path / "flag"
    assert settings_of(given).workers == 0


def test_bad_settings_are_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "ick.yaml"
    config.write_text("workers: -1\n")
    result = subprocess.run([sys.executable, "-I", "-m", "ick.daemon", "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"ick: error: {config}: workers: expected a whole number of at "
                             "least 0 (0: remote workers only)\n")


def test_an_unknown_flag_is_a_usage_error() -> None:
    result = subprocess.run([sys.executable, "-I", "-m", "ick.daemon", "--wrokers", "2"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "unrecognized arguments: --wrokers" in result.stderr
