"""`ick webhook PROJECT` against a real daemon: the URL and where to paste it, the webhook
secret made and stored the first time (and it then signs a webhook the daemon believes), the
status token's scope, and what an untrusted change may do."""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request

from tests.daemon import Daemon
from tests.forges import payload

FILE = """
projects:
  - project: site
    pipelines: [show]
    forge: {type: github, url: "https://api.github.com", repository: octo/site,
            token_secret: gh_token, webhook_secret: gh_hook}
  - project: bare
    pipelines: [show]
pipelines:
  - pipeline: show
    actions: [{shell: "true", where: container}]
"""


def post(daemon: Daemon, body: bytes, signature: str) -> int:
    request = urllib.request.Request(
        f"{daemon.url}/webhooks/site", data=body, method="POST",
        headers={"X-GitHub-Event": "push", "X-GitHub-Delivery": "d1",
                 "X-Hub-Signature-256": signature, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return e.code


def test_webhook_prints_the_url_makes_the_secret_once_and_names_the_token_scope(
        daemon: Daemon) -> None:
    daemon.apply(FILE)
    first = daemon.ick("webhook", "site", "--webhook-url", "https://ci.example.org/")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "In octo/site on https://api.github.com: Settings > Webhooks > Add webhook"
    assert lines[1] == "  Payload URL: https://ci.example.org/webhooks/site"
    secret = next(line for line in lines if line.startswith("  Secret: ")).split(": ", 1)[1]
    assert len(secret) == 48
    assert ("Commit statuses: with secret gh_token (NOT SET: ick secret set site gh_token), a "
            "fine-grained token with repository permission \"Commit statuses: Read and write\" "
            "(a classic token: scope repo:status)") in lines
    assert any(line.startswith("Pull requests build as untrusted changes: no secrets")
               for line in lines)

    body = payload("github/push-with-new-branch.payload.json")
    good = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert post(daemon, body, good) == 201

    again = daemon.ick("webhook", "site")
    assert again.returncode == 0, again.stderr
    assert secret not in again.stdout  # never shown twice
    assert f"  Payload URL: {daemon.url}/webhooks/site" in again.stdout
    assert "  Secret: the value of secret gh_hook of project site, as pasted before" \
        in again.stdout

    bare = daemon.ick("webhook", "bare")
    assert bare.returncode != 0
    assert bare.stderr.strip() == ("ick: error: project 'bare' has no forge: (see README, "
                                   "\"Forges\")")
