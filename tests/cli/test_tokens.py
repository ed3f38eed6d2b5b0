"""`ick token create --project GLOB` and `ick token list` against a real daemon."""

from __future__ import annotations

from tests.daemon import Daemon


def test_a_token_bound_to_projects_is_listed_with_them(daemon: Daemon) -> None:
    created = daemon.ick("token", "create", "--scope", "read", "--scope", "trigger",
                         "--project", "liw/*", "--project", "hello", "--name", "liw's")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    listing = daemon.ick("token", "list").stdout.splitlines()
    assert listing[0].split() == ["ID", "SCOPES", "CREATED", "FOR", "PROJECTS"]
    assert listing[1].split()[3:] == ["admin", "*"]
    assert listing[2].split()[1] == "read,trigger"
    assert listing[2].split()[3:] == ["liw's", "liw/*,hello"]
    docs = daemon.api("GET", "/tokens")[1]
    assert [d["projects"] for d in docs] == [None, ["liw/*", "hello"]]
    assert daemon.api("GET", "/projects", token=token) == (200, [])
    assert daemon.api("GET", "/projects/other", token=token)[0] == 404

    wide = daemon.ick("token", "create", "--scope", "worker", "--project", "x", "--name", "w")
    assert (wide.returncode, wide.stdout) == (2, "")
    assert wide.stderr == ("ick: error: a token bound to projects cannot carry the 'worker' "
                           "scope, which reaches every project\n")
