"""`ick hook PROJECT`: a git post-receive hook that triggers PROJECT on every pushed branch."""

from __future__ import annotations

import json

import click

from ick.cli.main import Context, cli, pass_ctx

HOOK = '''#!/usr/bin/env python3
# git post-receive hook written by `ick hook`: triggers an ick build of {project}
# for each pushed branch. A push never fails because of it.
import json, sys, urllib.error, urllib.request

URL = {url}
PROJECT = {project}
TOKEN = {token}
ZERO = "0" * 40

for line in sys.stdin:
    parts = line.split()
    if len(parts) != 3:
        continue
    old, new, ref = parts
    if not ref.startswith("refs/heads/") or set(new) == {{"0"}}:
        continue
    body = json.dumps({{"parameters": {{"git_ref": ref, "git_commit": new}}}}).encode()
    request = urllib.request.Request(
        URL + "/projects/" + urllib.request.quote(PROJECT, safe="/") + "/+trigger",
        data=body, method="POST",
        headers={{"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            build = json.load(response)
        print("ick: build %s of %s queued for %s" % (build["id"], PROJECT, ref))
    except urllib.error.HTTPError as e:
        try:
            message = json.load(e)["error"]
        except Exception:
            message = e.reason
        print("ick: warning: could not trigger %s: %s" % (PROJECT, message))
    except Exception as e:
        print("ick: warning: could not reach ick at %s to trigger %s: %s" % (URL, PROJECT, e))
'''


def hook_script(url: str, project: str, token: str) -> str:
    return HOOK.format(url=json.dumps(url.rstrip("/")), project=json.dumps(project),
                       token=json.dumps(token))


@cli.command()
@click.argument("project")
@click.option("--hook-url", default=None,
              help="The address the git server reaches the daemon at [--url].")
@pass_ctx
def hook(ctx: Context, project: str, hook_url: str | None) -> None:
    """Print a post-receive hook that triggers PROJECT (it mints a trigger token)."""
    from ick.cli.client import quote_name

    ctx.client.call("GET", f"/projects/{quote_name(project)}")
    doc = ctx.client.call("POST", "/tokens",
                          {"name": f"hook for {project}", "scopes": ["trigger"]})
    click.echo(hook_script(hook_url or ctx.url, project, doc["token"]), nl=False)
