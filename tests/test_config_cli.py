"""ick.config_cli: the command-line tool's variables, also to be had from ick.config."""

from __future__ import annotations

from pathlib import Path

import pytest

import ick.config
from ick.config_cli import client_environment


def test_ick_config_hands_out_the_same(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ICK_URL", "http://ci:4250")
    monkeypatch.delenv("ICK_TOKEN", raising=False)
    monkeypatch.setenv("ICK_STATE_DIR", str(tmp_path))
    assert ick.config.client_environment() == client_environment()
    assert client_environment() == ("http://ci:4250", None, str(tmp_path))


def test_an_empty_variable_is_no_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICK_URL", "")
    monkeypatch.setenv("ICK_TOKEN", "")
    monkeypatch.setenv("ICK_STATE_DIR", "")
    env = client_environment()
    assert (env.url, env.token) == (None, None)
    assert env.state_dir.endswith("/.local/share/ick")
