"""End to end: a project secret printed with ANSI escapes and carriage returns between its
characters is masked in the stored log and on the build page, and the newline after a
secret is kept (issue 22, findings 7 and 11)."""

from __future__ import annotations

import html
import re

from tests.daemon import Daemon
from tests.ui.web import http_session

SECRET = "hunter2ick"
ICKFILE = r"""
projects:
  - project: masked
    pipelines: [show]
pipelines:
  - pipeline: show
    actions:
      - shell: |
          v=$(cat "$ICK_SECRETS/pw")
          printf 'A: %s\n' "$(printf '%s' "$v" | sed 's/./&\x1b[0m/g')"
          printf 'B: %s\n' "$(printf '%s' "$v" | sed 's/./&\r/g')"
          echo "C: $v"; echo next
        where: host
        secrets: [pw]
"""


def test_a_secret_with_escapes_between_its_characters_is_masked(daemon: Daemon) -> None:
    daemon.apply(ICKFILE)
    assert daemon.ick("secret", "set", "masked", "pw", input=SECRET + "\n").returncode == 0
    build_id = daemon.trigger("masked")
    assert daemon.wait_build(build_id)["state"] == "succeeded"
    raw = daemon.ick("log", str(build_id)).stdout
    assert "A: ***" in raw and "B: ***" in raw
    assert "C: ***\nnext\n" in raw
    bare = re.sub(r"\x1b\[[0-9;]*m|\r", "", raw)
    assert SECRET not in bare
    page = http_session(daemon).open(f"{daemon.url}/ui/builds/{build_id}", timeout=30)
    text = html.unescape(re.sub(r"<[^>]*>", "", page.read().decode()))
    assert "C: ***" in text
    assert SECRET not in text.replace("\r", "")
