"""`ick apply`, `ick projects`, `ick pipelines`: the resources of .ick files."""

from __future__ import annotations

from typing import NoReturn

import click

from ick.cli.context import Context, json_option, pass_ctx, print_json


def _refuse(problems: list[str]) -> NoReturn:
    for problem in problems:
        click.echo(f"ick: error: {problem}", err=True)
    raise SystemExit(2)


def _apply(ctx: Context, path: str) -> None:
    from ick.errors import ClientError
    from ick.ickfile import check_references, pipeline_from_doc, project_from_doc, read_ick_file

    # The structural problems and the references among what did parse, all at once: a
    # second run should not find what the first could have said.
    ick_file, problems = read_ick_file(path)
    if problems and not (ick_file.projects or ick_file.pipelines):
        _refuse(problems)
    client = ctx.client
    try:
        pipeline_docs = client.call("GET", "/pipelines")
        project_docs = client.call("GET", "/projects")
    except ClientError:
        if not problems:
            raise
        _refuse(problems)  # the file's own problems, if the daemon is out of reach
    known = {d["pipeline"]: pipeline_from_doc(d, "daemon") for d in pipeline_docs}
    on_daemon = [project_from_doc(d, "daemon") for d in project_docs]
    problems += ick_file.reference_problems(known)
    # A pipeline this file changes must still suit the projects on the daemon that use it.
    changed = {p.name for p in ick_file.pipelines}
    mine = {name for kind, name in ick_file.lines if kind == "project"}
    affected = [p for p in on_daemon
                if p.name not in mine and changed & set(p.used_pipeline_names())]
    merged = {**known, **{p.name: p for p in ick_file.pipelines}}
    problems += check_references(affected, merged, lambda name: f"{path}: on the daemon")
    if problems:
        _refuse(problems)
    # One request, one transaction: the daemon stores the whole file, or nothing of it.
    answer = client.call("POST", "/apply", {
        "pipelines": [p.to_doc() for p in ick_file.pipelines],
        "projects": [p.to_doc() for p in ick_file.projects],
    })
    for applied in answer["applied"]:
        kind = "pipeline" if "pipeline" in applied else "project"
        # An older daemon does not say what changed: all of it was applied.
        said = "applied" if applied.get("changed", True) else "unchanged"
        click.echo(f"{kind} {applied[kind]}: {said}")


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
@pass_ctx
def apply(ctx: Context, path: str) -> None:
    """Create or update every project and pipeline in a .ick file."""
    _apply(ctx, path)


@click.command("make-it-so")
@click.argument("path", type=click.Path(dir_okay=False))
@pass_ctx
def make_it_so(ctx: Context, path: str) -> None:
    """Same as `apply`."""
    _apply(ctx, path)


def _resource_group(kind: str, plural: str) -> click.Group:
    @click.group(plural, invoke_without_command=True)
    @json_option
    @click.pass_context
    def group(click_ctx: click.Context, as_json: bool) -> None:
        from ick.cli.hot import list_resources

        if click_ctx.invoked_subcommand is not None:
            return
        list_resources(click_ctx.ensure_object(Context), kind, as_json)

    group.help = f"List {plural}; `show NAME` and `delete NAME` for one."

    @group.command("show")
    @click.argument("name")
    @json_option
    @pass_ctx
    def show(ctx: Context, name: str, as_json: bool) -> None:
        import yaml

        from ick.cli.client import quote_name

        doc = ctx.client.call("GET", f"/{plural}/{quote_name(name)}")
        if as_json:
            print_json(doc)
        else:
            click.echo(yaml.safe_dump(doc, sort_keys=False).rstrip())

    def delete(ctx: Context, name: str, yes: bool = False) -> None:
        from ick.cli.client import quote_name

        if kind == "project" and not yes:
            _confirm_project_delete(ctx, name)
        ctx.client.call("DELETE", f"/{plural}/{quote_name(name)}")
        click.echo(f"{kind} {name}: deleted")

    command = pass_ctx(delete)
    if kind == "project":  # its builds go with it (at the next prune): ask first
        command = click.option("--yes", is_flag=True,
                               help="Delete without asking (needed without a terminal).")(command)
    group.command("delete")(click.argument("name")(command))
    return group


def _confirm_project_delete(ctx: Context, name: str) -> None:
    """Ask "delete project NAME and its N builds? [y/N]"; without a terminal to ask on,
    refuse, saying to pass --yes."""
    import sys
    import urllib.parse

    from ick.cli.client import quote_name
    from ick.cli.context import EXIT_FAILED, fail

    ctx.client.call("GET", f"/projects/{quote_name(name)}")  # a missing one: say so first
    limit = 10_000
    builds = ctx.client.call(
        "GET", f"/builds?project={urllib.parse.quote(name, safe='')}&limit={limit}")
    count = f"{len(builds)}{' or more' if len(builds) >= limit else ''}"
    question = f"delete project {name} and its {count} builds?"
    if sys.stdin is None or not sys.stdin.isatty():
        fail(f"not asking without a terminal whether to {question[:-1]}: pass --yes")
    if not click.confirm(question, default=False):
        fail(f"project {name}: not deleted", EXIT_FAILED)


projects = _resource_group("project", "projects")
pipelines = _resource_group("pipeline", "pipelines")
