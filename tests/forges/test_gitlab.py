"""GitLab: X-Gitlab-Token, and the push, tag and merge request payloads (Woodpecker CI's
fixtures of real GitLab hooks) as builds; the status route, its header and state names."""

from __future__ import annotations

from ick.forges.forge import ForgeConfig, Ignored, Pushed, Status
from ick.forges.gitlab import GITLAB
from tests.forges import doc, payload


def test_the_token_header_must_be_the_secret_itself() -> None:
    body = payload("gitlab/HookPush.json")
    assert GITLAB.signed({"X-Gitlab-Token": "webhook-key-1234"}, body, b"webhook-key-1234")
    assert not GITLAB.signed({"X-Gitlab-Token": "webhook-key-123"}, body, b"webhook-key-1234")
    assert not GITLAB.signed({}, body, b"webhook-key-1234")


def test_pushes_and_tags_build_the_checked_out_commit() -> None:
    assert GITLAB.read("Push Hook", doc("gitlab/HookPush.json")) == Pushed(
        "push", "refs/heads/main", "16862e368d8ab812e48833b741dad720d6e2cb7f",
        "Update main.go", "the test")
    # An annotated tag: `after` is the tag object, checkout_sha the commit built.
    tag = GITLAB.read("Tag Push Hook", doc("gitlab/HookTag.json"))
    assert isinstance(tag, Pushed)
    assert (tag.event, tag.ref, tag.commit) == (
        "tag", "refs/tags/v22", "16862e368d8ab812e48833b741dad720d6e2cb7f")
    deleted = {**doc("gitlab/HookPush.json"), "after": "0" * 40, "checkout_sha": None}
    assert GITLAB.read("Push Hook", deleted) == Ignored("refs/heads/main was deleted")


def test_merge_requests_build_when_opened_reopened_or_given_new_commits() -> None:
    opened = GITLAB.read("Merge Request Hook", doc("gitlab/HookPullRequestOpened.json"))
    assert opened == Pushed("change", "refs/merge-requests/3/head",
                            "2f7670508b771e7e77839402be8b34b13787aba8",
                            "Edit README.md for more text to read", "6543", 3)
    updated = GITLAB.read("Merge Request Hook", doc("gitlab/HookPullRequestUpdated.json"))
    assert isinstance(updated, Pushed)
    assert updated.commit == "c136499ec574e1034b24c5d306de9acda3005367"
    # an update without new commits (a new title) builds nothing
    assert isinstance(GITLAB.read("Merge Request Hook", doc("gitlab/HookPullRequestEdited.json")),
                      Ignored)
    assert isinstance(GITLAB.read("Note Hook", {}), Ignored)


def test_a_status_names_the_project_url_encoded_with_a_private_token_in_gitlab_s_words() -> None:
    config = ForgeConfig("gitlab", "https://gitlab.example.com", "group/sub/hello", "h", "t")
    request = GITLAB.status(config, Status("abc", "failure", "https://ci/ui/builds/3", "d",
                                           "ick/hello"), "T0KEN")
    assert request.url == ("https://gitlab.example.com/api/v4/projects/group%2Fsub%2Fhello"
                           "/statuses/abc")
    assert request.headers["PRIVATE-TOKEN"] == "T0KEN"
    assert request.body == {"state": "failed", "name": "ick/hello",
                            "target_url": "https://ci/ui/builds/3", "description": "d"}
    numeric = GITLAB.status(ForgeConfig("gitlab", "https://g", "42", "h"),
                            Status("abc", "error", "u", "d", "c"), "T")
    assert numeric.url == "https://g/api/v4/projects/42/statuses/abc"
    assert numeric.body["state"] == "canceled"
