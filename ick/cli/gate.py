"""`ick gate PROJECT`: the project's gate candidates, queued and recent, each with its build
and result (a table, or JSON)."""

from __future__ import annotations

from typing import Any

import click

from ick.cli.context import Context, echo_table, json_option, pass_ctx, print_json


@click.command()
@click.argument("project")
@json_option
@pass_ctx
def gate(ctx: Context, project: str, as_json: bool) -> None:
    """List PROJECT's gate candidates (newest first) with their builds and results."""
    from ick.cli.client import quote_name

    doc: dict[str, Any] = ctx.client.call("GET", f"/projects/{quote_name(project)}/gate")
    if as_json:
        print_json(doc)
        return
    if doc.get("target") is None:
        click.echo(f"project {project} has no gate")
    rows = [["BUILD", "NUMBER", "TARGET", "CANDIDATE", "COMMIT", "ATTEMPT", "STATE", "RESULT"]]
    for c in doc["candidates"]:
        rows.append([str(c["build"]), str(c["number"]), c["target"], f"gate/{c['target']}/"
                     f"{c['name']}", c["candidate"][:12], str(c["attempt"]), c["state"],
                     c["result"] or ("testing" if c["state"] == "running" else "queued"
                                     if c["state"] == "queued" else "deciding")])
    echo_table(rows, right=(0, 1, 5))
