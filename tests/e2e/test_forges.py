"""Forges end to end: a real `ick serve` takes Forgejo's, GitHub's and GitLab's own webhook
payloads (tests/forges/payloads), signed with the project's secret, builds what they push,
refuses what is not signed or was delivered before, keeps a pull request's build from host
code and secrets, and posts commit statuses to a loopback server that takes exactly the
forges' documented routes and headers (tests/forge_server.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.daemon import Daemon
from tests.forge_server import StatusServer
from tests.forges import payload

PUBLIC = "http://ci.example.test:4250"
HOOK_KEY = "webhook-key-1234"
TOKEN = "status-token-5678"

PROJECTS = """
projects:
  - project: fj
    pipelines: [check]
    forge: {{type: forgejo, url: "{url}", repository: gordon/hello-world,
             token_secret: forge_token, webhook_secret: forge_hook}}
  - project: gh
    pipelines: [check]
    forge: {{type: github, url: "{url}", repository: Codertocat/Hello-World,
             token_secret: forge_token, webhook_secret: forge_hook}}
  - project: gh-trusted
    pipelines: [check]
    trust_changes: true
    forge: {{type: github, url: "{url}", repository: Codertocat/Hello-World,
             token_secret: forge_token, webhook_secret: forge_hook}}
  - project: gh-secret
    pipelines: [secret]
    forge: {{type: github, url: "{url}", repository: Codertocat/Hello-World,
             webhook_secret: forge_hook}}
  - project: gl
    pipelines: [check]
    tags: ["*"]
    forge: {{type: gitlab, url: "{url}", repository: demoaccount2-commits-group/test_ci_tmp,
             token_secret: forge_token, webhook_secret: forge_hook}}
  - project: plain
    pipelines: [check]
pipelines:
  - pipeline: check
    actions:
      - python: |
          import sys
          print("building", params["git_ref"], "at", params["git_commit"],
                "change", params.get("ick_change"))
          sys.exit(1 if params["git_ref"].startswith("refs/tags/") else 0)
        where: host
  - pipeline: secret
    actions:
      - python: print("never runs")
        where: container
        secrets: [deploy_key]
"""


@pytest.fixture(scope="module")
def statuses() -> Iterator[StatusServer]:
    server = StatusServer(TOKEN)
    yield server
    server.close()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory,
           statuses: StatusServer) -> Iterator[Daemon]:
    daemon = Daemon(tmp_path_factory.mktemp("forges") / "state",
                    {"public_url": PUBLIC}).start()
    daemon.apply(PROJECTS.format(url=statuses.url))
    for project in ("fj", "gh", "gh-trusted", "gh-secret", "gl"):
        for name, value in (("forge_hook", HOOK_KEY + "\n"), ("forge_token", TOKEN)):
            status, doc = daemon.api("PUT", f"/projects/{project}/+secrets/{name}",
                                     raw=value.encode())
            assert status in (200, 201), doc
    yield daemon
    daemon.stop()


def hex_hmac(body: bytes, key: str = HOOK_KEY) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def forgejo(event: str, delivery: str, body: bytes) -> dict[str, str]:
    """The headers Forgejo sends (its docs' example, signed)."""
    return {"X-Forgejo-Event": event, "X-Forgejo-Delivery": delivery,
            "X-Gitea-Event": event, "X-Gitea-Delivery": delivery,
            "X-Forgejo-Signature": hex_hmac(body), "X-Gitea-Signature": hex_hmac(body)}


def github(event: str, delivery: str, body: bytes) -> dict[str, str]:
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": "sha256=" + hex_hmac(body)}


def gitlab(event: str, delivery: str, _body: bytes) -> dict[str, str]:
    return {"X-Gitlab-Event": event, "X-Gitlab-Event-UUID": delivery,
            "X-Gitlab-Token": HOOK_KEY}


def send(daemon: Daemon, project: str, body: bytes,
         headers: dict[str, str]) -> tuple[int, Any]:
    """POST a webhook as the forge does: no bearer token, JSON, the headers given."""
    request = urllib.request.Request(
        f"{daemon.url}/webhooks/{project}", data=body, method="POST",
        headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, answer = e.code, e.read()
    return status, json.loads(answer) if answer else None


def builds_of(daemon: Daemon, project: str) -> list[dict[str, Any]]:
    status, docs = daemon.api("GET", f"/builds?project={project}")
    assert status == 200, docs
    return list(docs)


def git_facts(build: dict[str, Any], event: str, git: dict[str, Any]) -> None:
    """The build's event and git facts, which its JSON carries once issue 23's storage of
    them is merged (until then this branch passes them to the controller only)."""
    if "event" in build:
        assert build["event"] == event
        assert build["triggered_by"] == "forge"
        assert {k: build["git"][k] for k in git} == git


def test_a_signed_forgejo_push_builds_once_and_reports_pending_then_success(
        daemon: Daemon, statuses: StatusServer) -> None:
    body = payload("forgejo/HookPush.json")
    status, build = send(daemon, "fj", body, forgejo("push", "d-fj-1", body))
    assert status == 201, build
    sha = "ef98532add3b2feb7a137426bba1248724367df5"
    assert build["parameters"]["git_ref"] == "refs/heads/main"
    assert build["parameters"]["git_commit"] == sha
    assert build["parameters"]["ick_trigger"] == "forge"
    git_facts(build, "push", {"branch": "main", "commit": sha, "subject": "bump",
                              "author": "Gordon the Gopher"})
    assert daemon.wait_build(build["id"])["state"] == "succeeded"

    got = statuses.wait_states(sha, ["pending", "success"])
    assert {r.forge for r in got} == {"forgejo"} and got[0].repository == "gordon/hello-world"
    assert got[-1].body == {"state": "success", "context": "ick/fj",
                           "target_url": f"{PUBLIC}/ui/builds/{build['id']}",
                           "description": "fj #1 succeeded"}
    shown = daemon.build(build["id"])["notifications"]
    assert [(n["forge_status"], n["status"], n["state"]) for n in shown] == [
        ("ick/fj", "pending", "sent"), ("ick/fj", "success", "sent")]

    # The same delivery again (a replay, or the forge's retry): nothing new.
    assert send(daemon, "fj", body, forgejo("push", "d-fj-1", body)) == (
        200, {"delivery": "d-fj-1", "seen": True})
    assert len(builds_of(daemon, "fj")) == 1


def test_what_is_not_signed_with_the_project_s_secret_queues_nothing(daemon: Daemon) -> None:
    before = builds_of(daemon, "fj")
    body = payload("forgejo/HookPush.json")
    bad = {**forgejo("push", "d-fj-2", body), "X-Forgejo-Signature": hex_hmac(body, "guess"),
           "X-Gitea-Signature": hex_hmac(body, "guess")}
    refused = (401, {"error": "the webhook's signature does not match the project's "
                              "webhook secret"})
    assert send(daemon, "fj", body, bad) == refused
    assert send(daemon, "fj", body + b"\n", forgejo("push", "d-fj-3", body)) == refused
    unsigned = {k: v for k, v in forgejo("push", "d-fj-4", body).items()
                if "Signature" not in k}
    assert send(daemon, "fj", body, unsigned) == refused
    # GitHub's header on a Forgejo project, GitLab's token on a GitHub one: not theirs
    assert send(daemon, "fj", body, github("push", "d-fj-5", body))[0] == 401
    assert send(daemon, "gh", body, gitlab("Push Hook", "d-gh-9", body))[0] == 401
    assert send(daemon, "nosuch", body, forgejo("push", "d-x", body)) == (
        404, {"error": "no webhook for project 'nosuch'"})
    assert send(daemon, "plain", body, forgejo("push", "d-x", body)) == (
        404, {"error": "no webhook for project 'plain'"})
    signed_garbage = b"{not json"
    assert send(daemon, "fj", signed_garbage, forgejo("push", "d-fj-6", signed_garbage))[0] \
        == 400
    assert builds_of(daemon, "fj") == before


def test_github_pings_deleted_tags_and_closed_requests_build_nothing(daemon: Daemon) -> None:
    for event, name in (("ping", "github/ping-payload.json"),
                        ("push", "github/push-deleted-tag.payload.json"),
                        ("pull_request", "github/pull_request-closed.payload.json"),
                        ("issues", "github/ping-payload.json")):
        body = payload(name)
        assert send(daemon, "gh", body, github(event, f"d-{name}-{event}", body)) == (204, None)
    assert builds_of(daemon, "gh") == []


def test_a_pull_request_runs_untrusted_unless_the_project_trusts_changes(
        daemon: Daemon, statuses: StatusServer) -> None:
    body = payload("github/pull_request-opened.payload.json")
    sha = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    status, build = send(daemon, "gh", body, github("pull_request", "d-gh-pr-1", body))
    assert status == 201, build
    assert build["parameters"]["git_ref"] == "refs/pull/2/head"
    assert build["parameters"]["git_commit"] == sha
    assert build["parameters"]["ick_change"] == 2
    git_facts(build, "change", {"ref": "refs/pull/2/head", "branch": None, "commit": sha,
                                "subject": "Update the README with new information.",
                                "author": "Codertocat"})
    done = daemon.wait_build(build["id"])
    assert done["state"] == "failed"
    [action] = done["actions"]
    assert action["message"] == ("untrusted change: rule 'code only where: container, "
                                 "without network': a python action runs where: host")
    log = daemon.wait_log(build["id"], "untrusted change")
    assert "building" not in log  # it never started
    # its status: pending, then failure (also on the trusted project's: one commit, two
    # contexts); refused as it was queued, its pending may not go out at all
    assert {r.body["context"] for r in statuses.wait_states(sha, ["pending", "failure"])} \
        == {"ick/gh"}

    status, trusted = send(daemon, "gh-trusted", body,
                           github("pull_request", "d-gh-pr-2", body))
    assert status == 201, trusted
    assert daemon.wait_build(trusted["id"])["state"] == "succeeded"
    assert "building refs/pull/2/head at " + sha + " change 2" in daemon.wait_log(
        trusted["id"], "change 2")
    got = statuses.wait_states(sha, ["pending", "failure", "pending", "success"])
    assert [r.body["context"] for r in got if r.body["state"] == "success"] == [
        "ick/gh-trusted"]
    assert got[-1].body["context"] == "ick/gh-trusted"


def test_a_pull_request_s_action_that_names_a_secret_fails_before_it_starts(
        daemon: Daemon) -> None:
    body = payload("github/pull_request-synchronize.payload.json")
    status, build = send(daemon, "gh-secret", body, github("pull_request", "d-gs-1", body))
    assert status == 201, build
    done = daemon.wait_build(build["id"])
    assert done["state"] == "failed"
    assert done["actions"][0]["message"] == (
        "untrusted change: rule 'no secrets': the action names secret 'deploy_key'")
    assert done["notifications"] == []  # no token_secret: no statuses


def test_gitlab_tags_and_merge_requests_and_their_statuses(
        daemon: Daemon, statuses: StatusServer) -> None:
    body = payload("gitlab/HookTag.json")
    status, tag = send(daemon, "gl", body, gitlab("Tag Push Hook", "d-gl-1", body))
    assert status == 201, tag
    sha = "16862e368d8ab812e48833b741dad720d6e2cb7f"
    assert (tag["parameters"]["git_ref"], tag["parameters"]["git_commit"]) == (
        "refs/tags/v22", sha)
    git_facts(tag, "tag", {"tag": "v22", "commit": sha, "subject": "Update main.go"})
    assert daemon.wait_build(tag["id"])["state"] == "failed"  # the pipeline fails tags
    got = statuses.wait_states(sha, ["pending", "failed"])
    assert got[0].forge == "gitlab"
    assert got[0].repository == "demoaccount2-commits-group/test_ci_tmp"  # sent encoded
    assert got[-1].body == {"state": "failed", "name": "ick/gl",
                           "target_url": f"{PUBLIC}/ui/builds/{tag['id']}",
                           "description": "gl #1 failed"}

    body = payload("gitlab/HookPullRequestOpened.json")
    status, change = send(daemon, "gl", body, gitlab("Merge Request Hook", "d-gl-2", body))
    assert status == 201, change
    assert change["parameters"]["git_ref"] == "refs/merge-requests/3/head"
    assert change["parameters"]["ick_change"] == 3
    assert send(daemon, "gl", body, gitlab("Merge Request Hook", "d-gl-2", body))[0] == 200
    assert len(builds_of(daemon, "gl")) == 2
    assert not [r for r in statuses.items if r.status != 201]  # nothing was refused
