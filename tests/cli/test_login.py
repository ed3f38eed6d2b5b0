"""`ick login-link`, as a user runs it against a real daemon."""

from __future__ import annotations

import json

from tests.daemon import Daemon


def test_login_link_prints_a_link_or_its_json(daemon: Daemon) -> None:
    plain = daemon.ick("login-link")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith(f"{daemon.url}/ui/login?link=")
    doc = json.loads(daemon.ick("login-link", "--json").stdout)
    assert set(doc) == {"url", "expires_at", "seconds"} and doc["seconds"] == 60
    assert doc["url"] != plain.stdout.strip()


def test_login_link_needs_a_token_that_can_read(daemon: Daemon) -> None:
    worker = daemon.ick("token", "create", "--scope", "worker", "--name", "w").stdout.strip()
    result = daemon.ick("--token", worker, "login-link")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "ick: error: token 'w' lacks the 'read' scope\n"
    result = daemon.ick("--token", "ick_nope_nope", "login-link")
    assert result.stderr == "ick: error: invalid token\n"
