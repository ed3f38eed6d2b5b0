"""The commands scripts run most, `ick projects` and `ick trigger`, run without click when
their arguments take one of the plain forms below; any other form (--help, a mistake, a
spelling not listed here) goes to click, which answers as it always has. The click commands
(ick.cli.resources, ick.cli.builds) run the same functions, so both print the same.

    ick [--url URL] [--token TOKEN] projects|pipelines [--json]
    ick [--url URL] [--token TOKEN] trigger PROJECT [-p|--param KEY=VALUE]... [--wait] [--json]

(`--url=URL`, `--token=TOKEN` and `--param=KEY=VALUE` too.) Why: click and what it imports
cost an `ick` call more than Python's start-up and the HTTP request together (bench/cli.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from ick.cli.connection import EXIT_FAILED, Context, print_json, say


def parse(argv: list[str]) -> Callable[[], None] | None:
    """What `argv` asks for, ready to run; None unless it is one of the forms above."""
    args = list(argv)
    given: dict[str, str] = {}
    while args and args[0].startswith(("--url", "--token")):
        option = _take_value(args, ("--url", "--token"))
        if option is None or option[0] in given:
            return None
        given[option[0]] = option[1]
    if not args:
        return None
    ctx = Context(given.get("--url"), given.get("--token"))
    command, args = args[0], args[1:]
    if command in ("projects", "pipelines") and args in ([], ["--json"]):
        kind, as_json = command[:-1], bool(args)
        return lambda: list_resources(ctx, kind, as_json)
    if command == "trigger":
        return _parse_trigger(ctx, args)
    return None


def _take_value(args: list[str], names: tuple[str, ...]) -> tuple[str, str] | None:
    """Take `--name VALUE` or `--name=VALUE` off the front of args, for one of names."""
    name, eq, value = args[0].partition("=")
    if name not in names:
        return None
    if not eq:
        if len(args) < 2:
            return None
        value = args[1]
        del args[0]
        if value.startswith("-"):  # click's own rules for that: let click apply them
            return None
    del args[0]
    return name, value


def _parse_trigger(ctx: Context, args: list[str]) -> Callable[[], None] | None:
    project: str | None = None
    params: dict[str, str] = {}
    wait = as_json = False
    while args:
        if args[0] == "--wait":
            wait = True
            del args[0]
        elif args[0] == "--json":
            as_json = True
            del args[0]
        elif args[0].startswith("-"):
            option = _take_value(args, ("-p", "--param"))
            if option is None:
                return None
            key, sep, value = option[1].partition("=")
            if not sep or not key:  # click's command says what is wrong with it
                return None
            params[key] = value
        elif project is None:
            project = args.pop(0)
        else:
            return None
    if project is None:
        return None
    name = project
    return lambda: trigger(ctx, name, params, wait, as_json)


def list_resources(ctx: Context, kind: str, as_json: bool) -> None:
    """`ick projects`, `ick pipelines`: one name a line, or the documents as JSON."""
    docs: list[dict[str, Any]] = ctx.client.call("GET", f"/{kind}s")
    if as_json:
        print_json(docs)
        return
    for doc in docs:
        say(doc[kind])


def trigger(ctx: Context, project: str, params: dict[str, str], wait: bool,
            as_json: bool) -> None:
    """Queue a build of `project`; print its id (and with `wait`, what queued says)."""
    from ick.cli.client import quote_name

    body = {"parameters": params}
    queued(ctx, ctx.client.call("POST", f"/projects/{quote_name(project)}/+trigger", body),
           wait, as_json)


def queued(ctx: Context, build: dict[str, Any], wait: bool, as_json: bool) -> None:
    """Say which build was queued; with `wait`, follow it and exit 1 unless it succeeds."""
    if as_json:
        print_json(build)
    else:
        say(str(build["id"]))
    if wait:
        follow(ctx, f"/builds/{build['id']}/log?follow=1")
        exit_unless_succeeded(ctx, build["id"])


def follow(ctx: Context, path: str) -> None:
    """Copy a log to stdout as it comes."""
    out = sys.stdout.buffer
    for chunk in ctx.client.stream(path):
        out.write(chunk)
        out.flush()


def exit_unless_succeeded(ctx: Context, build_id: int, job: int | None = None) -> None:
    """After following a build (or one job of it) to its end: exit 1 unless it succeeded."""
    final = ctx.client.call("GET", f"/builds/{build_id}")
    what, state = f"build {build_id}", final["state"]
    if job is not None:
        state = next((j["state"] for j in final["jobs"] if j["job"] == job), state)
        what = f"build {build_id} job {job}"
    if state != "succeeded":
        sys.stdout.flush()
        say(f"{what} {state}", err=True)
        sys.exit(EXIT_FAILED)
