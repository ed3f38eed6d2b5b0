"""`ick secret set|list|rm`: a project's secrets; values go in, never come out."""

from __future__ import annotations

import sys

import click

from ick.cli.context import Context, fail, json_option, pass_ctx, print_json


def _path(project: str, name: str | None = None, environment: str | None = None) -> str:
    import urllib.parse

    from ick.cli.client import quote_name

    base = f"/projects/{quote_name(project)}/+secrets"
    path = base if name is None else f"{base}/{quote_name(name)}"
    if environment is not None:
        path += "?" + urllib.parse.urlencode({"environment": environment})
    return path


environment_option = click.option(
    "--environment", metavar="ENV",
    help="The environment's secrets: only the runs of deployments there get them.")


@click.group()
def secret() -> None:
    """Set, list and remove a project's secrets (values are never shown)."""


@secret.command("set")
@click.argument("project")
@click.argument("name")
@click.option("--file", "path", type=click.Path(dir_okay=False, exists=True),
              help="Read the value from this file [default: standard input].")
@environment_option
@pass_ctx
def set_(ctx: Context, project: str, name: str, path: str | None,
         environment: str | None) -> None:
    """Set secret NAME of PROJECT to what the file or standard input holds."""
    if path is not None:
        with open(path, "rb") as f:
            value = f.read()
    else:
        if sys.stdin.isatty():
            click.echo("type the value, then Ctrl-D:", err=True)
        value = sys.stdin.buffer.read()
    if not value:
        fail(f"secret {name!r}: the value is empty")
    conn, response = ctx.client.open("PUT", _path(project, name, environment), value,
                                     {"Content-Type": "application/octet-stream"})
    try:
        response.read()
    finally:
        conn.close()
    where = "" if environment is None else f" (environment {environment})"
    click.echo(f"secret {name} of project {project}{where}: set")


@secret.command("list")
@click.argument("project")
@environment_option
@json_option
@pass_ctx
def list_(ctx: Context, project: str, environment: str | None, as_json: bool) -> None:
    """List PROJECT's secrets: names and when each was set."""
    docs = ctx.client.call("GET", _path(project, environment=environment))
    if as_json:
        print_json(docs)
        return
    for doc in docs:
        click.echo(f"{doc['name']}  {doc['updated_at']}")


@secret.command("rm")
@click.argument("project")
@click.argument("name")
@environment_option
@pass_ctx
def rm(ctx: Context, project: str, name: str, environment: str | None) -> None:
    """Remove secret NAME of PROJECT."""
    ctx.client.call("DELETE", _path(project, name, environment))
    where = "" if environment is None else f" (environment {environment})"
    click.echo(f"secret {name} of project {project}{where}: removed")
