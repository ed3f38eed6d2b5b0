"""The payloads Forgejo, Gitea and GitHub word alike: a push (`ref`, `after`, `commits`,
`head_commit`) and a pull request (`action`, `number`, `pull_request.head.sha`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ick.forges.forge import Ignored, Pushed, deleted, number, subject_of, text


def _head(doc: Mapping[str, Any], sha: str) -> Mapping[str, Any]:
    """The pushed head commit's entry: `head_commit`, else the one of `commits` with its id."""
    head = doc.get("head_commit")
    if isinstance(head, dict):
        return head
    commits = doc.get("commits")
    for commit in commits if isinstance(commits, list) else ():
        if isinstance(commit, dict) and commit.get("id") == sha:
            return commit
    return {}


def _name(person: object) -> str | None:
    if not isinstance(person, dict):
        return None
    return text(person.get("name")) or text(person.get("login")) or text(person.get("username"))


def read_push(doc: Mapping[str, Any]) -> Pushed | Ignored:
    ref, after = text(doc.get("ref")), text(doc.get("after"))
    if ref is None or after is None:
        return Ignored("the push names no ref or commit")
    if doc.get("deleted") is True or deleted(after):
        return Ignored(f"{ref} was deleted")
    if not ref.startswith(("refs/heads/", "refs/tags/")):
        return Ignored(f"{ref} is neither a branch nor a tag")
    head = _head(doc, after)
    tag = ref.startswith("refs/tags/")
    # An annotated tag's push names the tag object; its head commit is what is built.
    commit = (text(head.get("id")) or after) if tag else after
    author = _name(head.get("author")) or _name(doc.get("pusher")) or _name(doc.get("sender"))
    return Pushed("tag" if tag else "push", ref, commit, subject_of(head.get("message")), author)


def read_pull_request(doc: Mapping[str, Any], actions: tuple[str, ...]) -> Pushed | Ignored:
    action = doc.get("action")
    if action not in actions:
        return Ignored(f"pull request {text(action) or 'event'!s:.40}: builds only when "
                       f"{', '.join(actions)}")
    pr = doc.get("pull_request")
    head = pr.get("head") if isinstance(pr, dict) else None
    sha = text(head.get("sha")) if isinstance(head, dict) else None
    n = number(doc.get("number")) or (number(pr.get("number")) if isinstance(pr, dict) else None)
    if not isinstance(pr, dict) or sha is None or n is None:
        return Ignored("the pull request names no number or head commit")
    author = _name(pr.get("user")) or _name(doc.get("sender"))
    return Pushed("change", f"refs/pull/{n}/head", sha, subject_of(pr.get("title")), author, n)
