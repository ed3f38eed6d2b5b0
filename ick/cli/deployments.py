"""`ick environments`, `ick deployments`, `ick deploy`, `ick rollback`, `ick approve` and
`ick reject`: a project's environments and their deployments (DESIGN.md, "Continuous
delivery")."""

from __future__ import annotations

import sys
import time
import urllib.parse
from typing import Any

import click

from ick.cli.context import (
    EXIT_FAILED,
    Context,
    echo_table,
    json_option,
    pass_ctx,
    print_json,
)

FINISHED = ("succeeded", "failed", "cancelled", "rejected")
POLL = 0.5  # seconds between looks at a deployment `--wait` follows


def _environment_path(project: str, environment: str, what: str) -> str:
    from ick.cli.client import quote_name

    return f"/projects/{quote_name(project)}/environments/{quote_name(environment)}/{what}"


def _rows(docs: list[dict[str, Any]]) -> list[list[str]]:
    rows = [["ID", "PROJECT", "ENVIRONMENT", "BUILD", "RUN", "STATE", "REASON", "BY",
             "CREATED"]]
    for d in docs:
        by = d["requested_by"] + (f" (approved by {d['approved_by']})"
                                  if d.get("approved_by") else "")
        rows.append([str(d["id"]), d["project"], d["environment"], str(d["build"]),
                     "-" if d["run"] is None else str(d["run"]), d["state"], d["reason"], by,
                     d["created_at"]])
    return rows


def _shown(ctx: Context, doc: dict[str, Any], wait: bool, as_json: bool) -> None:
    """Print the deployment; with `wait`, follow it to its end (exit 1 unless it succeeded)."""
    if not wait:
        if as_json:
            print_json(doc)
        else:
            click.echo(f"deployment {doc['id']}: build {doc['build']} to {doc['environment']} "
                       f"of {doc['project']}: {doc['state']}")
        return
    said = None
    while doc["state"] not in FINISHED:
        if not as_json and doc["state"] != said:
            said = doc["state"]
            run = "" if doc["run"] is None else f" (its run: build {doc['run']})"
            click.echo(f"deployment {doc['id']}: {doc['state']}{run}", err=True)
        time.sleep(POLL)
        doc = ctx.client.call("GET", f"/deployments/{doc['id']}")
    if as_json:
        print_json(doc)
    else:
        click.echo(f"deployment {doc['id']}: build {doc['build']} to {doc['environment']} "
                   f"of {doc['project']}: {doc['state']}")
    if doc["state"] != "succeeded":
        sys.exit(EXIT_FAILED)


@click.command()
@click.argument("project")
@json_option
@pass_ctx
def environments(ctx: Context, project: str, as_json: bool) -> None:
    """List PROJECT's environments and what is live in each."""
    from ick.cli.client import quote_name

    docs: list[dict[str, Any]] = ctx.client.call(
        "GET", f"/projects/{quote_name(project)}/environments")
    if as_json:
        print_json(docs)
        return
    rows = [["ENVIRONMENT", "LIVE", "SINCE", "WAITING", "AFTER", "APPROVAL", "URL"]]
    for d in docs:
        live = d["live"]
        rows.append([d["environment"], "-" if live is None else f"build {live['build']}",
                     "-" if live is None else str(live["finished_at"]),
                     ", ".join(str(w["id"]) for w in d["waiting"]) or "-",
                     d["after"] or "-", "yes" if d["approval"] else "no", d["url"] or "-"])
    echo_table(rows)


@click.command()
@click.argument("project", required=False)
@click.option("--environment", metavar="ENV", help="Only this environment's.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@json_option
@pass_ctx
def deployments(ctx: Context, project: str | None, environment: str | None, limit: int,
                as_json: bool) -> None:
    """List deployments, newest first (of PROJECT, of one environment)."""
    query: dict[str, str] = {"limit": str(limit)}
    if project is not None:
        query["project"] = project
    if environment is not None:
        query["environment"] = environment
    docs = ctx.client.call("GET", f"/deployments?{urllib.parse.urlencode(query)}")
    if as_json:
        print_json(docs)
        return
    echo_table(_rows(docs), right=(0, 3))


def _body(build: int | None) -> dict[str, int]:
    return {} if build is None else {"build": build}


@click.command()
@click.argument("project")
@click.argument("environment", metavar="ENV")
@click.option("--build", "build", type=click.IntRange(1, 2**62), default=None,
              help="The build to deploy [default: the one live in `after:`, else the "
                   "project's newest succeeded build].")
@click.option("--wait", is_flag=True, help="Exit 0 when the deployment succeeded, else 1.")
@json_option
@pass_ctx
def deploy(ctx: Context, project: str, environment: str, build: int | None, wait: bool,
           as_json: bool) -> None:
    """Deploy a build of PROJECT to ENV."""
    doc = ctx.client.call("POST", _environment_path(project, environment, "+deploy"),
                          _body(build))
    _shown(ctx, doc, wait, as_json)


@click.command()
@click.argument("project")
@click.argument("environment", metavar="ENV")
@click.option("--build", "build", type=click.IntRange(1, 2**62), default=None,
              help="An earlier build that was live in ENV [default: the one live before "
                   "the current one].")
@click.option("--wait", is_flag=True, help="Exit 0 when the deployment succeeded, else 1.")
@json_option
@pass_ctx
def rollback(ctx: Context, project: str, environment: str, build: int | None, wait: bool,
             as_json: bool) -> None:
    """Deploy to ENV the build that was live there before."""
    doc = ctx.client.call("POST", _environment_path(project, environment, "+rollback"),
                          _body(build))
    _shown(ctx, doc, wait, as_json)


@click.command()
@click.argument("deployment_id", metavar="ID", type=click.IntRange(1, 2**62))
@json_option
@pass_ctx
def approve(ctx: Context, deployment_id: int, as_json: bool) -> None:
    """Approve deployment ID, which waits for approval."""
    _shown(ctx, ctx.client.call("POST", f"/deployments/{deployment_id}/+approve"), False,
           as_json)


@click.command()
@click.argument("deployment_id", metavar="ID", type=click.IntRange(1, 2**62))
@json_option
@pass_ctx
def reject(ctx: Context, deployment_id: int, as_json: bool) -> None:
    """Reject deployment ID, which waits for approval."""
    _shown(ctx, ctx.client.call("POST", f"/deployments/{deployment_id}/+reject"), False,
           as_json)
