"""ick.cli.hot: the forms it runs without click mean what click makes of them, and every
other form is left to click."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import ick
from ick.cli import hot
from ick.cli.group import cli

RUN = [
    ["projects"],
    ["projects", "--json"],
    ["pipelines"],
    ["--url", "http://x:1", "projects"],
    ["--url=http://x:1", "--token", "t", "pipelines", "--json"],
    ["trigger", "p"],
    ["trigger", "--wait", "p"],
    ["--token=t", "trigger", "a/b", "--json"],
    ["trigger", "p", "-p", "a=b", "--param", "c=d=e", "--param=f=", "--wait", "--json"],
    ["trigger", "p", "-p", "a=1", "-p", "a=2"],
]

LEFT_TO_CLICK = [
    [], ["--version"], ["-h"], ["projects", "--help"], ["trigger", "--help"],
    ["projects", "show", "x"], ["projects", "--jso"], ["trigger"], ["trigger", "p", "q"],
    ["trigger", "p", "-p", "nokey"], ["trigger", "p", "-p", "=v"], ["trigger", "p", "-pa=b"],
    ["trigger", "p", "--", "x"], ["trigger", "-x", "p"], ["trigger", "p", "-p"],
    ["--url", "--json", "projects"], ["--url", "x", "--url", "y", "projects"], ["--url"],
    ["--urls=x", "projects"], ["builds"], ["trigger", "p", "-p", "-a=b"],
]


def _calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """What ick.cli.hot's commands are asked to do, with whose --url and --token."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(hot, "list_resources", lambda ctx, kind, as_json: calls.append(
        (ctx._url, ctx._token, "list", kind, as_json)))
    monkeypatch.setattr(hot, "trigger", lambda ctx, project, params, wait, as_json: calls.append(
        (ctx._url, ctx._token, "trigger", project, params, wait, as_json)))
    return calls


@pytest.mark.parametrize("argv", RUN, ids=" ".join)
def test_a_hot_form_does_what_click_does(argv: list[str], monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    calls = _calls(monkeypatch)
    command = hot.parse(argv)
    assert command is not None
    command()
    cli.main(argv, standalone_mode=False)
    assert len(calls) == 2
    assert calls[0] == calls[1]


@pytest.mark.parametrize("argv", LEFT_TO_CLICK, ids=" ".join)
def test_any_other_form_is_left_to_click(argv: list[str]) -> None:
    assert hot.parse(argv) is None


def test_what_a_hot_command_loads_leaves_out_the_costly_modules() -> None:
    """Every module `ick trigger P --wait` imports to an http:// daemon, and none of those
    that cost a call most: click, ick.config (dataclasses, pathlib), http.client (ssl, email)."""
    import subprocess
    import sys

    code = ("import sys, ick.cli.main, ick.cli.hot, ick.cli.connection, ick.cli.client, "
            "ick.cli.rawhttp, ick.config_cli; "
            "print(sorted({'click', 'ick.config', 'dataclasses', 'pathlib', 'http.client', "
            "'ssl', 'email', 'urllib.parse'} & set(sys.modules)))")
    # Without site (-S): an editable install's import hook loads pathlib itself.
    source = str(Path(ick.__file__).parent.parent)
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": source}).stdout
    assert out.strip() == "[]"
