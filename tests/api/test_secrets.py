"""Project secrets end to end: the CLI and API keep them, actions get the ones they name,
and no log shows a value."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.daemon import Daemon

VALUE = "s3cr3t-value-42"
OTHER = "another-secret-99"

PROJECT = """
projects:
  - project: liw/site
    pipelines: [show]
pipelines:
  - pipeline: show
    actions:
      - shell: |
          echo "dir=$ICK_SECRETS"
          ls "$ICK_SECRETS"
          stat -c 'mode=%a' "$ICK_SECRETS/TOKEN" "$ICK_SECRETS"
          echo "whole: $(cat "$ICK_SECRETS/TOKEN")"
          v=$(cat "$ICK_SECRETS/TOKEN")
          printf 'split: %s' "${v:0:6}"; sleep 0.3; printf '%s|\\n' "${v:6}"
          printf 'other: %s\\n' "$(printf '%s' another-secret; printf '%s' -99)"
        where: host
        secrets: [TOKEN]
      - shell: 'echo "second=${ICK_SECRETS:-unset}"'
        where: host
"""


def test_set_list_and_remove_never_show_a_value(daemon: Daemon) -> None:
    daemon.apply(PROJECT)
    result = daemon.ick("secret", "set", "liw/site", "TOKEN", input=VALUE + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "secret TOKEN of project liw/site: set\n"
    path = daemon.state_dir / "secrets" / "liw%2Fsite" / "TOKEN"
    assert path.read_bytes() == (VALUE + "\n").encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    listed = daemon.ick("secret", "list", "liw/site", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [d["name"] for d in json.loads(listed.stdout)] == ["TOKEN"]
    assert VALUE not in listed.stdout
    status, doc = daemon.api("GET", "/projects/liw%2Fsite/+secrets")
    assert status == 200 and [d["name"] for d in doc] == ["TOKEN"]
    assert VALUE not in json.dumps(doc)

    removed = daemon.ick("secret", "rm", "liw/site", "TOKEN")
    assert removed.returncode == 0, removed.stderr
    assert not path.exists()
    again = daemon.ick("secret", "rm", "liw/site", "TOKEN")
    assert again.returncode == 2
    assert again.stderr == "ick: error: project 'liw/site' has no secret 'TOKEN'\n"


def test_bad_requests_say_what_is_wrong(daemon: Daemon) -> None:
    daemon.apply(PROJECT)
    nope = daemon.ick("secret", "set", "nope", "TOKEN", input=VALUE)
    assert (nope.returncode, nope.stderr) == (2, "ick: error: no project 'nope'\n")
    short = daemon.ick("secret", "set", "liw/site", "TOKEN", input="ab\n")
    assert short.returncode == 2
    assert short.stderr == (
        "ick: error: secret 'TOKEN' is too short: at least 4 bytes besides white space, "
        "or masking it would hide ordinary text in logs\n"
    )
    status, doc = daemon.api("PUT", "/projects/liw/site/+secrets/TOKEN", raw=VALUE.encode(),
                             token=None)
    assert status == 401
    read_only = daemon.ick("token", "create", "--scope", "read", "--name", "r").stdout.strip()
    status, doc = daemon.api("PUT", "/projects/liw/site/+secrets/TOKEN", raw=VALUE.encode(),
                             token=read_only)
    assert status == 403
    status, doc = daemon.api("GET", "/projects/liw/site/+secrets", token=read_only)
    assert (status, doc) == (200, [])


def test_an_action_gets_its_secrets_and_the_log_masks_them(daemon: Daemon) -> None:
    daemon.apply(PROJECT)
    for name, value in (("TOKEN", VALUE), ("OTHER", OTHER)):
        result = daemon.ick("secret", "set", "liw/site", name, input=value)
        assert result.returncode == 0, result.stderr
    build_id = daemon.trigger("liw/site")
    doc = daemon.wait_build(build_id)
    assert doc["state"] == "succeeded", doc
    log = daemon.ick("log", str(build_id)).stdout
    assert VALUE not in log and OTHER not in log
    assert "whole: ***\n" in log
    assert "split: ***|\n" in log
    assert "other: ***\n" in log
    assert "TOKEN\n" in log and "OTHER" not in log.split("whole:")[0]  # only what it named
    assert log.count("mode=600") == 1 and "mode=700" in log
    assert "second=unset\n" in log
    folder = next(line[4:] for line in log.splitlines() if line.startswith("dir="))
    assert folder.endswith("/secrets")
    # The files went away with the action that named them.
    assert not Path(folder).exists()
    assert VALUE.encode() not in (daemon.state_dir / "logs" / f"{build_id}.log").read_bytes()


def test_a_missing_secret_fails_the_action_saying_which(daemon: Daemon) -> None:
    daemon.apply(PROJECT)
    build_id = daemon.trigger("liw/site")
    doc = daemon.wait_build(build_id)
    assert doc["state"] == "failed"
    assert doc["actions"][0]["message"] == (
        "project 'liw/site' has no secret 'TOKEN' (set it with: ick secret set liw/site TOKEN)"
    )
    assert doc["actions"][1]["state"] == "skipped"


def test_a_secret_set_while_a_build_runs_is_masked_from_then_on(
    daemon: Daemon, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    daemon.apply(f"""
projects:
  - project: late
    pipelines: [wait]
pipelines:
  - pipeline: wait
    actions:
      - shell: |
          echo ready
          for i in $(seq 1200); do [ -e {go} ] && break; sleep 0.05; done
          echo "late: {VALUE}"
        where: host
""")
    build_id = daemon.trigger("late")
    daemon.wait_log(build_id, "ready\n")
    result = daemon.ick("secret", "set", "late", "LATE", input=VALUE)
    assert result.returncode == 0, result.stderr
    go.touch()
    assert daemon.wait_build(build_id)["state"] == "succeeded"
    log = daemon.ick("log", str(build_id)).stdout
    assert "late: ***\n" in log and VALUE not in log


def test_deleting_a_project_deletes_its_secrets(daemon: Daemon) -> None:
    daemon.apply(PROJECT)
    assert daemon.ick("secret", "set", "liw/site", "TOKEN", input=VALUE).returncode == 0
    assert daemon.ick("projects", "delete", "liw/site", "--yes").returncode == 0
    assert not (daemon.state_dir / "secrets" / "liw%2Fsite").exists()
    daemon.apply(PROJECT)
    listed = daemon.ick("secret", "list", "liw/site", "--json")
    assert json.loads(listed.stdout) == []
