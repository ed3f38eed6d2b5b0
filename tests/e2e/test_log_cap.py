"""A build's log stops at max_log_mb: one line says so, the rest is dropped, the build goes on."""

from __future__ import annotations

from collections.abc import Callable

from tests.daemon import Daemon

LOUD = """
projects:
  - project: loud
    pipelines: [loud]
pipelines:
  - pipeline: loud
    actions:
      - shell: 'head -c 5000000 /dev/zero | tr "\\0" x; echo; echo still here'
        where: host
      - shell: 'echo the second action ran'
        where: host
"""


def test_a_log_past_max_log_mb_is_cut_with_one_line_and_the_build_goes_on(
    start_daemon: Callable[..., Daemon],
) -> None:
    daemon = start_daemon({"max_log_mb": 1})
    daemon.apply(LOUD)
    build_id = daemon.trigger("loud")
    build = daemon.wait_build(build_id)
    assert build["state"] == "succeeded"
    assert [a["state"] for a in build["actions"]] == ["succeeded", "succeeded"]
    log = (daemon.state_dir / "logs" / f"{build_id}.log").read_bytes()
    notice = (b"ick: the log reached max_log_mb (1 MiB): the rest of the build's output "
              b"is dropped\n")
    assert log.endswith(notice)
    assert log.count(notice) == 1
    assert len(log) - len(notice) <= 2**20 + 1
    assert b"still here" not in log
    assert b"the second action ran" not in log
    status, text = daemon.api("GET", f"/builds/{build_id}/log")
    assert status == 200 and text.endswith(notice.decode())


def test_max_log_mb_must_be_a_positive_whole_number(
    start_daemon: Callable[..., Daemon], tmp_path: object,
) -> None:
    import subprocess
    import sys
    from pathlib import Path

    config = Path(str(tmp_path)) / "bad.yaml"
    config.write_text("max_log_mb: 0\n")
    result = subprocess.run([sys.executable, "-m", "ick", "serve", "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (f"ick: error: {config}: max_log_mb: expected a whole number of "
                             "mebibytes from 1 to 1048576\n")
