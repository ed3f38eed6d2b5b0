"""The environment, read by ick.config alone: what actions see of it, the time zone, the retry
knob, and what the command-line tool takes from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ick.config import (
    PASSED_ENV,
    client_environment,
    load_settings,
    local_zone,
    passed_env,
    retry_scale,
)


def test_actions_see_only_the_passed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("ICK_TOKEN", "ick_secret_value")
    env = passed_env()
    assert env["LANG"] == "C.UTF-8"
    assert "ICK_TOKEN" not in env and set(env) <= set(PASSED_ENV)


def test_the_time_zone_is_tz_else_utc_when_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", ":Europe/Helsinki")
    assert str(local_zone()) == "Europe/Helsinki"
    monkeypatch.setenv("TZ", "No/Such_Zone")
    assert str(local_zone()) == "UTC"


@pytest.mark.parametrize(("text", "scale"), [
    (None, 1.0), ("0.05", 0.05), ("1", 1.0), ("0", 1.0), ("2", 1.0), ("fast", 1.0)])
def test_the_retry_knob(text: str | None, scale: float,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    if text is None:
        monkeypatch.delenv("ICK_NOTIFY_RETRY_SCALE", raising=False)
    else:
        monkeypatch.setenv("ICK_NOTIFY_RETRY_SCALE", text)
    assert retry_scale() == scale


def test_what_the_command_line_tool_takes(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setenv("ICK_URL", "http://ci:4250")
    monkeypatch.setenv("ICK_TOKEN", "ick_a_b")
    monkeypatch.setenv("ICK_STATE_DIR", str(tmp_path))
    env = client_environment()
    assert (env.url, env.token, env.state_dir) == ("http://ci:4250", "ick_a_b", str(tmp_path))
    for name in ("ICK_URL", "ICK_TOKEN", "ICK_STATE_DIR"):
        monkeypatch.delenv(name)
    env = client_environment()
    assert (env.url, env.token) == (None, None)
    assert env.state_dir.endswith("/.local/share/ick")


def test_daemon_settings_read_the_process_environment_unless_given_one(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ICK_STATE_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("ICK_WORKER_LEASE", "2.5")
    settings = load_settings(None)
    assert (settings.state_dir, settings.worker_lease) == (tmp_path / "a", 2.5)
    assert load_settings(None, {}).state_dir != tmp_path / "a"
