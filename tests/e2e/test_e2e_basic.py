"""End to end: apply a .ick file, trigger builds, read them back, as a user would."""

from __future__ import annotations

from tests.daemon import Daemon

HELLO = """
projects:
  - project: hello
    parameters: {greeting: hi}
    pipelines: [hello]
pipelines:
  - pipeline: hello
    parameters: [greeting]
    actions:
      - shell: echo "greeting=$(params)"
        where: host
"""


def test_apply_trigger_wait_succeeds(daemon: Daemon) -> None:
    daemon.apply(HELLO)
    result = daemon.ick("trigger", "hello", "--wait")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1"
    assert ('greeting={"greeting": "hi", "ick_trigger": "api", "ick_event": "manual"}'
            in result.stdout)
