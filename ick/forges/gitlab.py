"""GitLab: webhooks carry the shared secret itself in `X-Gitlab-Token`; statuses with `POST
{url}/api/v4/projects/{id}/statuses/{sha}` (the id, or the project's path URL-encoded) and
`PRIVATE-TOKEN: T`, in GitLab's own state names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ick.forges.forge import (
    Forge,
    ForgeConfig,
    Ignored,
    Pushed,
    Status,
    StatusRequest,
    deleted,
    first_header,
    number,
    same,
    subject_of,
    text,
)

PATH_RE = re.compile(r"[0-9]+|[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+")
# ick's states (GitHub's words) in GitLab's: it has no `error`, and a cancelled or
# interrupted build did not fail.
STATES = {"pending": "pending", "success": "success", "failure": "failed",
          "error": "canceled"}


def _signed(headers: Mapping[str, str], body: bytes, key: bytes) -> bool:
    return same(headers.get("X-Gitlab-Token"), key.decode("utf-8", "replace"))


def _commit(doc: Mapping[str, Any], sha: str) -> Mapping[str, Any]:
    commits = doc.get("commits")
    for commit in commits if isinstance(commits, list) else ():
        if isinstance(commit, dict) and commit.get("id") == sha:
            return commit
    return {}


def _author(commit: Mapping[str, Any]) -> str | None:
    author = commit.get("author")
    return text(author.get("name")) if isinstance(author, dict) else None


def _push(doc: Mapping[str, Any]) -> Pushed | Ignored:
    ref, sha = text(doc.get("ref")), text(doc.get("checkout_sha"))
    if ref is None:
        return Ignored("the push names no ref")
    if sha is None or deleted(doc.get("after")):
        return Ignored(f"{ref} was deleted")
    if not ref.startswith(("refs/heads/", "refs/tags/")):
        return Ignored(f"{ref} is neither a branch nor a tag")
    commit = _commit(doc, sha)
    event = "tag" if ref.startswith("refs/tags/") else "push"
    return Pushed(event, ref, sha, text(commit.get("title")) or subject_of(commit.get("message")),
                  _author(commit) or text(doc.get("user_name")))


def _merge_request(doc: Mapping[str, Any]) -> Pushed | Ignored:
    attributes = doc.get("object_attributes")
    if not isinstance(attributes, dict):
        return Ignored("the merge request has no object_attributes")
    action = attributes.get("action")
    # `update` is also a new title or label; only with `oldrev` did new commits come.
    if not (action in ("open", "reopen") or (action == "update" and attributes.get("oldrev"))):
        return Ignored(f"merge request {text(action) or 'event'!s:.40}: builds only when "
                       "opened, reopened or updated with new commits")
    last = attributes.get("last_commit")
    last = last if isinstance(last, dict) else {}
    sha, iid = text(last.get("id")), number(attributes.get("iid"))
    if sha is None or iid is None:
        return Ignored("the merge request names no iid or last commit")
    user = doc.get("user")
    author = _author(last) or (text(user.get("username")) if isinstance(user, dict) else None)
    return Pushed("change", f"refs/merge-requests/{iid}/head", sha,
                  subject_of(attributes.get("title")), author, iid)


def _read(event: str, doc: Mapping[str, Any]) -> Pushed | Ignored:
    if event in ("Push Hook", "Tag Push Hook"):
        return _push(doc)
    if event == "Merge Request Hook":
        return _merge_request(doc)
    return Ignored(f"{event[:40]} events build nothing")


def _status(config: ForgeConfig, status: Status, token: str) -> StatusRequest:
    project = quote(config.repository, safe="")
    return StatusRequest(
        f"{config.url}/api/v4/projects/{project}/statuses/{status.sha}",
        {"PRIVATE-TOKEN": token, "Content-Type": "application/json"},
        {"state": STATES[status.state], "name": status.context,
         "target_url": status.target_url, "description": status.description})


GITLAB = Forge(
    "gitlab", _signed,
    delivery=lambda headers: first_header(headers, "X-Gitlab-Event-UUID", "Idempotency-Key"),
    event=lambda headers: first_header(headers, "X-Gitlab-Event"),
    read=_read, status=_status,
    repository_ok=lambda value: PATH_RE.fullmatch(value) is not None,
    repository_rule="the project's numeric id or its path (GROUP/NAME)",
)
