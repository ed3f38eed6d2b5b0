"""Forgejo and Gitea: their signature headers, and their push, tag and pull request payloads
(Woodpecker CI's fixtures, captured from real Forgejo and Gitea servers) as builds."""

from __future__ import annotations

import hashlib
import hmac

from ick.forges.forge import ForgeConfig, Ignored, Pushed, Status
from ick.forges.forgejo import FORGEJO, GITEA
from tests.forges import doc, payload

KEY = b"webhook-key-1234"


def sign(body: bytes, key: bytes = KEY) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def test_either_signature_header_with_the_hex_hmac_of_the_body_is_believed() -> None:
    body = payload("forgejo/HookPush.json")
    assert FORGEJO.signed({"X-Forgejo-Signature": sign(body)}, body, KEY)
    assert GITEA.signed({"X-Gitea-Signature": sign(body)}, body, KEY)
    assert not FORGEJO.signed({"X-Forgejo-Signature": sign(body, b"other-key")}, body, KEY)
    assert not FORGEJO.signed({"X-Forgejo-Signature": sign(body)}, body + b" ", KEY)
    assert not FORGEJO.signed({}, body, KEY)
    assert not FORGEJO.signed({"X-Hub-Signature-256": "sha256=" + sign(body)}, body, KEY)


def test_a_branch_push_builds_its_head_with_subject_and_author() -> None:
    assert FORGEJO.read("push", doc("forgejo/HookPush.json")) == Pushed(
        "push", "refs/heads/main", "ef98532add3b2feb7a137426bba1248724367df5", "bump",
        "Gordon the Gopher")
    pushed = GITEA.read("push", doc("gitea/HookPush.json"))
    assert isinstance(pushed, Pushed) and pushed.event == "push"


def test_pull_requests_opened_synchronized_and_reopened_build_their_head_as_changes() -> None:
    assert FORGEJO.read("pull_request", doc("forgejo/HookPullRequest.json")) == Pushed(
        "change", "refs/pull/1/head", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
        "Update the README with new information", "gordon", 1)
    updated = GITEA.read("pull_request", doc("gitea/HookPullRequestUpdated.json"))
    assert isinstance(updated, Pushed)
    assert (updated.ref, updated.commit, updated.change) == (
        "refs/pull/2/head", "788ed8d02d3b7fcfcf6386dbcbca696aa1d4dc25", 2)
    reopened = FORGEJO.read("pull_request", doc("forgejo/HookPullRequestReopened.json"))
    assert isinstance(reopened, Pushed) and reopened.event == "change"


def test_closed_requests_deleted_branches_and_other_events_build_nothing() -> None:
    assert isinstance(FORGEJO.read("pull_request", doc("forgejo/HookPullRequestClosed.json")),
                      Ignored)
    deleted = {**doc("forgejo/HookPush.json"), "after": "0" * 40}
    assert FORGEJO.read("push", deleted) == Ignored("refs/heads/main was deleted")
    # Forgejo's `create` event for a tag: the tag's push event is what builds it
    assert FORGEJO.read("create", doc("forgejo/HookTag.json")) == Ignored(
        "create events build nothing")


def test_delivery_and_event_come_from_forgejo_s_headers_or_gitea_s() -> None:
    headers = {"X-Gitea-Delivery": "f6266f16", "X-Gitea-Event": "push"}
    assert (FORGEJO.delivery(headers), FORGEJO.event(headers)) == ("f6266f16", "push")
    headers = {"X-Forgejo-Delivery": "abc", "X-Forgejo-Event": "pull_request"}
    assert (FORGEJO.delivery(headers), FORGEJO.event(headers)) == ("abc", "pull_request")


def test_a_status_is_posted_to_the_repository_s_statuses_with_a_token_header() -> None:
    config = ForgeConfig("forgejo", "https://forge.example.org", "alice/hello", "hook", "tok")
    request = FORGEJO.status(config, Status("abc123", "pending", "https://ci/ui/builds/3",
                                            "hello #3 queued", "ick/hello"), "T0KEN")
    assert request.url == "https://forge.example.org/api/v1/repos/alice/hello/statuses/abc123"
    assert request.headers["Authorization"] == "token T0KEN"
    assert request.body == {"state": "pending", "target_url": "https://ci/ui/builds/3",
                            "description": "hello #3 queued", "context": "ick/hello"}
