"""`ick trigger`, `ick builds`, `ick build`, `ick log`, `ick cancel`."""

from __future__ import annotations

from typing import Any

import click

from ick.cli import hot
from ick.cli.context import (
    Context,
    echo_table,
    fail,
    json_option,
    pass_ctx,
    print_json,
)


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"-p {pair!r}: expected key=value")
        params[key] = value
    return params


@click.command()
@click.argument("project")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A build parameter (a string), overriding the project's.")
@click.option("--wait", is_flag=True, help="Follow the log; exit 0 if the build succeeds, else 1.")
@json_option
@pass_ctx
def trigger(ctx: Context, project: str, params: tuple[str, ...], wait: bool, as_json: bool) -> None:
    """Queue a build of PROJECT; print its id."""
    hot.trigger(ctx, project, _parse_params(params), wait, as_json)


@click.command()
@click.argument("project", required=False)
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@json_option
@pass_ctx
def builds(ctx: Context, project: str | None, limit: int, as_json: bool) -> None:
    """List builds, newest first (of one PROJECT, or all)."""
    from urllib.parse import urlencode

    query: dict[str, Any] = {"limit": limit}
    if project:
        query["project"] = project
    docs = ctx.client.call("GET", f"/builds?{urlencode(query)}")
    if as_json:
        print_json(docs)
        return
    rows = [BUILD_COLUMNS] + [[
        str(b["id"]), b["project"], str(b["number"]), b["state"],
        str(b["parameters"].get("ick_trigger") or ""), b["queued_at"],
        _cut(_branch(_git(b)), MAX_BRANCH),
        str(_git(b).get("commit") or b.get("commit") or b["parameters"].get("git_commit")
            or "")[:10],
        _jobs_summary(b["jobs"]) if len(b.get("jobs") or []) > 1 else "",
        _line(_git(b).get("subject")),
    ] for b in docs]
    _fit_last(rows)
    echo_table(rows, right=(0, 2))


BUILD_COLUMNS = ["ID", "PROJECT", "NUMBER", "STATE", "TRIGGER", "QUEUED", "BRANCH", "COMMIT",
                 "JOBS", "SUBJECT"]
MAX_BRANCH = 40  # a longer branch or tag is cut, ending in '…'
MAX_SUBJECT = 72  # the subject's width when the output is not a terminal
MIN_SUBJECT = 20  # ...and at the least when it is one


def _git(doc: dict[str, Any]) -> dict[str, Any]:
    """A build's git facts (a daemon from before them has none)."""
    git = doc.get("git")
    return git if isinstance(git, dict) else {}


def _branch(git: dict[str, Any]) -> str:
    """The branch, or the tag as `tag:v1`, or nothing."""
    if git.get("branch"):
        return _line(git["branch"])
    return f"tag:{_line(git['tag'])}" if git.get("tag") else ""


def _line(text: object) -> str:
    """A value as one line of a table: control characters and line breaks become spaces."""
    from ick.model import one_line

    return one_line(text, cap=10_000) if isinstance(text, str) else ""


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(width - 1, 0)] + "…"


def _fit_last(rows: list[list[str]]) -> None:
    """Cut the last column (the subject) so a row fits the terminal, or to MAX_SUBJECT when
    the output goes elsewhere (a pipe, a file)."""
    import shutil
    import sys

    width = MAX_SUBJECT
    if sys.stdout.isatty():
        others = sum(max(len(row[i]) for row in rows) + 2 for i in range(len(rows[0]) - 1))
        width = max(shutil.get_terminal_size().columns - others, MIN_SUBJECT)
    for row in rows[1:]:
        row[-1] = _cut(row[-1], width)


def _jobs_summary(jobs: list[dict[str, Any]]) -> str:
    """`4 jobs: 3 succeeded, 1 failed`."""
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job["state"]] = counts.get(job["state"], 0) + 1
    return f"{len(jobs)} jobs: " + ", ".join(f"{n} {state}" for state, n in counts.items())


def _job_title(job: dict[str, Any]) -> str:
    import json

    values = ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}"
                       for k, v in job["parameters"].items())
    return f"job {job['job']} ({values})" if values else f"job {job['job']}"


@click.command()
@click.argument("build_id", type=int)
@json_option
@pass_ctx
def build(ctx: Context, build_id: int, as_json: bool) -> None:
    """Show one build: state, parameters, each action's outcome."""
    import json

    doc = ctx.client.call("GET", f"/builds/{build_id}")
    if as_json:
        print_json(doc)
        return
    click.echo(f"build {doc['id']}: {doc['project']} #{doc['number']}, {doc['state']}")
    git = _git(doc)
    facts = {"event": doc.get("event"), "triggered_by": doc.get("triggered_by"),
             "branch": git.get("branch"), "tag": git.get("tag"),
             "ref": None if git.get("branch") or git.get("tag") else git.get("ref"),
             "commit": git.get("commit") or doc.get("commit"), "subject": git.get("subject"),
             "author": git.get("author")}
    for key, value in facts.items():
        if value:
            click.echo(f"  {key.replace('_', ' ')}: {_line(value)}")
    for key in ("queued_at", "started_at", "finished_at", "worker", "waiting"):
        if doc.get(key):
            click.echo(f"  {key.replace('_', ' ')}: {doc[key]}")
    click.echo("  parameters:")
    for key, value in doc["parameters"].items():
        click.echo(f"    {key}: {json.dumps(value)}")
    jobs = doc.get("jobs") or [{"job": 0}]
    if len(jobs) == 1:
        click.echo("  actions:")
        _echo_actions(doc["actions"], "    ")
    else:
        click.echo(f"  {_jobs_summary(jobs)}")
        for job in jobs:
            worker = f" on {job['worker']}" if job.get("worker") else ""
            click.echo(f"  {_job_title(job)}: {job['state']}{worker}")
            _echo_actions([a for a in doc["actions"] if a.get("job", 0) == job["job"]],
                          "    ")
    if doc.get("notifications"):
        click.echo("  notifications:")
        for n in doc["notifications"]:
            _echo_notification(n)


def _echo_actions(actions: list[dict[str, Any]], indent: str) -> None:
    import json

    for a in actions:
        code = "" if a["exit_code"] is None else f" exit {a['exit_code']}"
        duration = "" if a["duration"] is None else f" {a['duration']:.2f} s"
        message = f" ({a['message']})" if a.get("message") else ""
        click.echo(f"{indent}{a['pipeline']}[{a['index']}] {a['kind']} ({a['where']}): "
                   f"{a['state']}{code}{duration}{message}")
        for extra in sorted(set(a) - {"pipeline", "index", "kind", "where", "state",
                                       "exit_code", "duration", "message", "job"}):
            click.echo(f"{indent}  {extra}: {json.dumps(a[extra])}")


def _echo_notification(n: dict[str, Any]) -> None:
    """`email dev@example.org (end): sent, 2 attempts`, then one line per attempt."""
    target = f"email {n['email']}" if "email" in n else f"webhook {n.get('webhook')}"
    attempts = f"{n['attempts']} attempt" + ("" if n["attempts"] == 1 else "s")
    state = {"pending": "pending", "sent": "sent", "failed": "gave up"}.get(n["state"], n["state"])
    later = f", next attempt {n['next_attempt_at']}" if n.get("next_attempt_at") else ""
    click.echo(f"    {target} ({n['event']}): {state}, {attempts}{later}")
    for attempt in n["history"]:
        result = "sent" if attempt.get("ok") else f"failed: {attempt.get('error')}"
        click.echo(f"      {attempt['at']}: {result}")


@click.command()
@click.argument("build_id", type=int)
@click.option("-f", "--follow", is_flag=True, help="Keep printing until the build ends.")
@click.option("--offset", type=click.IntRange(0), default=0, help="Start at this byte.")
@click.option("--job", type=click.IntRange(0, 10000), default=None,
              help="Only this job's log (of a build with a matrix).")
@pass_ctx
def log(ctx: Context, build_id: int, follow: bool, offset: int, job: int | None) -> None:
    """Print a build's log (with several jobs, each job's under a `== job N ==` line)."""
    path = f"/builds/{build_id}/log?offset={offset}" + ("&follow=1" if follow else "")
    if job is not None:
        path += f"&job={job}"
    hot.follow(ctx, path)
    if follow:
        hot.exit_unless_succeeded(ctx, build_id, job)


@click.command()
@click.argument("build_id", type=click.IntRange(1))
@click.option("--wait", is_flag=True, help="Follow the log; exit 0 if the build succeeds, else 1.")
@json_option
@pass_ctx
def rebuild(ctx: Context, build_id: int, wait: bool, as_json: bool) -> None:
    """Queue a new build of BUILD_ID's project with its parameters; print the new id."""
    hot.queued(ctx, ctx.client.call("POST", f"/builds/{build_id}/+rebuild"), wait, as_json)


@click.command()
@click.argument("build_id", type=int)
@json_option
@pass_ctx
def cancel(ctx: Context, build_id: int, as_json: bool) -> None:
    """Cancel a queued or running build."""
    doc = ctx.client.call("POST", f"/builds/{build_id}/+cancel")
    if as_json:
        print_json(doc)
    else:
        click.echo(f"build {build_id}: cancelling")

