"""`ick apply` is one request and one transaction: a file that fails at any point changes
nothing; a number too long to read is a FILE:LINE error."""

from __future__ import annotations

from pathlib import Path

from tests.daemon import Daemon

SMALL = """
pipelines:
  - pipeline: yp
    actions:
      - shell: echo small
        where: host
"""


def test_a_file_whose_second_resource_is_too_large_applies_nothing(
    daemon: Daemon, tmp_path: Path,
) -> None:
    path = tmp_path / "big.ick"
    path.write_text(SMALL + f"""
  - pipeline: big
    actions:
      - shell: echo {"x" * 2_000_000}
        where: host
""")
    result = daemon.ick("apply", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "ick: error: request entity too large\n"
    assert daemon.api("GET", "/pipelines") == (200, [])


def test_a_5000_digit_number_is_a_file_line_error(daemon: Daemon, tmp_path: Path) -> None:
    path = tmp_path / "digits.ick"
    path.write_text(SMALL + f"        timeout: {'9' * 5000}\n")
    result = daemon.ick("apply", str(path))
    assert result.returncode == 2
    assert result.stderr == (f"ick: error: {path}:7: invalid yaml: the number "
                             "99999999999999999999... has too many digits\n")
    assert daemon.api("GET", "/pipelines") == (200, [])


def test_post_apply_stores_all_or_nothing(daemon: Daemon) -> None:
    pipeline = {"pipeline": "p", "actions": [{"shell": "true", "where": "host"}]}
    status, doc = daemon.api("POST", "/apply", {
        "pipelines": [pipeline],
        "projects": [{"project": "a", "pipelines": ["p"]},
                     {"project": "b", "pipelines": ["missing"]},
                     {"project": "c", "pipelines": ["p"], "colour": "red"}],
    })
    assert status == 400
    first, second = doc["error"].splitlines()
    assert first.startswith("project 'c': unknown key 'colour' (expected one of: ")
    assert second == "project 'b' names pipeline 'missing', which does not exist"
    assert daemon.api("GET", "/pipelines") == (200, [])
    assert daemon.api("GET", "/projects") == (200, [])
    status, doc = daemon.api("POST", "/apply", {
        "pipelines": [pipeline], "projects": [{"project": "a", "pipelines": ["p"]}]})
    assert (status, doc) == (200, {"applied": [
        {"pipeline": "p", "created": True, "changed": True},
        {"project": "a", "created": True, "changed": True}]})
    status, doc = daemon.api("POST", "/apply", {"pipelines": [pipeline]})
    assert (status, doc) == (200, {"applied": [{"pipeline": "p", "created": False,
                                                "changed": False}]})
    # A pipeline change that would break a stored project is refused, whole.
    status, doc = daemon.api("POST", "/apply", {
        "pipelines": [{**pipeline, "parameters": ["needed"]}]})
    assert (status, doc) == (400, {"error": "project 'a' does not give parameter 'needed' "
                                            "that pipeline 'p' requires"})
    assert daemon.api("GET", "/pipelines/p")[1]["parameters"] == []


def test_apply_needs_the_write_scope(daemon: Daemon) -> None:
    result = daemon.ick("token", "create", "--scope", "read", "--name", "r")
    token = result.stdout.strip().splitlines()[-1]
    assert daemon.api("POST", "/apply", {"pipelines": []}, token=token)[0] == 403
