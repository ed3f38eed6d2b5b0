"""GitHub: X-Hub-Signature-256, and the push, pull request and ping payloads of
octokit/webhooks' examples as builds; the status route and its headers."""

from __future__ import annotations

import hashlib
import hmac

from ick.forges.forge import ForgeConfig, Ignored, Pushed, Status
from ick.forges.github import GITHUB
from tests.forges import doc, payload

KEY = b"webhook-key-1234"


def test_the_signature_is_sha256_and_the_hex_hmac_of_the_body() -> None:
    body = payload("github/push-with-new-branch.payload.json")
    good = "sha256=" + hmac.new(KEY, body, hashlib.sha256).hexdigest()
    assert GITHUB.signed({"X-Hub-Signature-256": good}, body, KEY)
    assert not GITHUB.signed({"X-Hub-Signature-256": good.removeprefix("sha256=")}, body, KEY)
    assert not GITHUB.signed({"X-Hub-Signature-256": good}, body[:-1], KEY)
    assert not GITHUB.signed({"X-Gitea-Signature": good[7:]}, body, KEY)


def test_pushes_build_and_a_deleted_tag_does_not() -> None:
    assert GITHUB.read("push", doc("github/push-with-new-branch.payload.json")) == Pushed(
        "push", "refs/heads/master", "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        "Initial commit", "Codertocat")
    assert GITHUB.read("push", doc("github/push-deleted-tag.payload.json")) == Ignored(
        "refs/tags/simple-tag was deleted")


def test_opened_and_synchronize_build_the_head_but_closed_and_ping_do_not() -> None:
    opened = GITHUB.read("pull_request", doc("github/pull_request-opened.payload.json"))
    assert opened == Pushed("change", "refs/pull/2/head",
                            "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
                            "Update the README with new information.", "Codertocat", 2)
    synced = GITHUB.read("pull_request", doc("github/pull_request-synchronize.payload.json"))
    assert isinstance(synced, Pushed) and synced.change == 2
    assert isinstance(GITHUB.read("pull_request", doc("github/pull_request-closed.payload.json")),
                      Ignored)
    assert GITHUB.read("ping", doc("github/ping-payload.json")) == Ignored(
        "ping events build nothing")


def test_a_status_goes_to_repos_statuses_with_a_bearer_token_and_github_s_media_type() -> None:
    config = ForgeConfig("github", "https://api.github.com", "octo/hello", "hook", "tok")
    request = GITHUB.status(config, Status("abc", "failure", "u", "d", "ick/hello"), "T0KEN")
    assert request.url == "https://api.github.com/repos/octo/hello/statuses/abc"
    assert request.headers["Authorization"] == "Bearer T0KEN"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.body["state"] == "failure" and request.body["context"] == "ick/hello"
