"""`ick secret set|list|rm`: a project's secrets; values go in, never come out."""

from __future__ import annotations

import sys

import click

from ick.cli.context import Context, fail, json_option, pass_ctx, print_json


def _path(project: str, name: str | None = None) -> str:
    from ick.cli.client import quote_name

    base = f"/projects/{quote_name(project)}/+secrets"
    return base if name is None else f"{base}/{quote_name(name)}"


@click.group()
def secret() -> None:
    """Set, list and remove a project's secrets (values are never shown)."""


@secret.command("set")
@click.argument("project")
@click.argument("name")
@click.option("--file", "path", type=click.Path(dir_okay=False, exists=True),
              help="Read the value from this file [default: standard input].")
@pass_ctx
def set_(ctx: Context, project: str, name: str, path: str | None) -> None:
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
    conn, response = ctx.client.open("PUT", _path(project, name), value,
                                     {"Content-Type": "application/octet-stream"})
    try:
        response.read()
    finally:
        conn.close()
    click.echo(f"secret {name} of project {project}: set")


@secret.command("list")
@click.argument("project")
@json_option
@pass_ctx
def list_(ctx: Context, project: str, as_json: bool) -> None:
    """List PROJECT's secrets: names and when each was set."""
    docs = ctx.client.call("GET", _path(project))
    if as_json:
        print_json(docs)
        return
    for doc in docs:
        click.echo(f"{doc['name']}  {doc['updated_at']}")


@secret.command("rm")
@click.argument("project")
@click.argument("name")
@pass_ctx
def rm(ctx: Context, project: str, name: str) -> None:
    """Remove secret NAME of PROJECT."""
    ctx.client.call("DELETE", _path(project, name))
    click.echo(f"secret {name} of project {project}: removed")
