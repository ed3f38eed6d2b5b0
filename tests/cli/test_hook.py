"""`ick hook PROJECT` against a real daemon: the token it prints is bound to PROJECT and, a
`trigger` token, sets only git_ref, git_commit and the project's trigger_parameters (issue 22,
finding 1: project `systree`'s hook token built `site` from the attacker's repository)."""

from __future__ import annotations

import json

from tests.daemon import Daemon

FILE = """
projects:
  - project: site
    parameters: {git_url: /srv/git/site.git, rsync_target: "www:/var/www", greeting: hi}
    pipelines: [show]
    trigger_parameters: [greeting]
  - project: systree
    parameters: {git_url: /srv/git/systree.git}
    pipelines: [show]
pipelines:
  - pipeline: show
    actions: [{shell: "true", where: host}]
"""


def hook_token(daemon: Daemon, project: str) -> str:
    hook = daemon.ick("hook", project)
    assert hook.returncode == 0, hook.stderr
    line = next(line for line in hook.stdout.splitlines() if line.startswith("TOKEN = "))
    return str(json.loads(line.split(" = ", 1)[1]))


def test_a_hook_token_triggers_only_its_project_and_never_redirects_the_code(
        daemon: Daemon) -> None:
    daemon.apply(FILE)
    systree = hook_token(daemon, "systree")
    evil = {"parameters": {"git_url": "/tmp/evil"}}
    # the attack as written: another project's hook token
    assert daemon.api("POST", "/projects/site/+trigger", evil, token=systree) == (
        404, {"error": "no project 'site'"})
    assert daemon.api("GET", "/projects/site", token=None)[0] == 401
    # the project's own hook token may not choose where the code comes from, or goes
    site = hook_token(daemon, "site")
    status, doc = daemon.api("POST", "/projects/site/+trigger", evil, token=site)
    assert (status, doc["error"]) == (
        403, "token 'hook for site' may not set parameter 'git_url' of project 'site' (a "
             "trigger token sets only git_commit, git_ref, greeting; the project's "
             "trigger_parameters add more)")
    status, _ = daemon.api("POST", "/projects/site/+trigger",
                           {"parameters": {"rsync_target": "evil:/"}}, token=site)
    assert status == 403
    assert daemon.api("GET", "/builds")[1] == []  # nothing was queued
    # what the hook sends, and what the project lists, it may
    status, doc = daemon.api("POST", "/projects/site/+trigger", {"parameters": {
        "git_ref": "refs/heads/main", "git_commit": "0" * 40, "ick_trigger": "hook",
        "greeting": "hello"}}, token=site)
    assert status == 201, doc
    assert doc["parameters"]["git_url"] == "/srv/git/site.git"
    assert doc["parameters"]["greeting"] == "hello"
    # and sees only its project's builds
    assert daemon.api("GET", "/builds", token=site)[0] == 403  # it has no read scope
    listing = daemon.ick("token", "list").stdout.splitlines()
    assert listing[0].split() == ["ID", "SCOPES", "CREATED", "FOR", "PROJECTS"]
    assert [line.split()[-1] for line in listing if "hook for" in line] == ["systree", "site"]
    assert listing[1].split()[-1] == "*"  # the admin token: every project
