"""A build's git facts (ick/model.py): the trigger's, then what the first checkout found;
subjects and authors kept as one capped line."""

from __future__ import annotations

from ick.model import (
    MAX_GIT_LINE,
    SOURCES_KEY,
    ActionRecord,
    Build,
    BuildState,
    GitFacts,
    SourceRevision,
    one_line,
)

SHA = "9f1c" * 10


def build(git: GitFacts, *sources: dict[str, str], parameters: dict[str, str] | None = None) \
        -> Build:
    actions = [ActionRecord("p", 0, "git", "host", {}, details={SOURCES_KEY: list(sources)}),
               ActionRecord("p", 1, "shell", "host", {})]
    return Build(1, "hello", 1, BuildState.SUCCEEDED, parameters or {}, "2026-01-01T00:00:00Z",
                 actions=actions, git=git)


def source(commit: str = SHA, subject: str = "Fix it") -> dict[str, str]:
    return {"url": "u", "ref": "refs/heads/main", "commit": commit, "dir": "d",
            "subject": subject, "author": "A <a@example.org>"}


def test_the_build_s_json_takes_what_the_trigger_did_not_give_from_the_first_source() -> None:
    tag = GitFacts.of_ref("refs/tags/v1")
    assert build(tag, source(), source("abcd" * 10, "other")).to_json()["git"] == {
        "ref": "refs/tags/v1", "branch": None, "tag": "v1", "commit": SHA, "subject": "Fix it",
        "author": "A <a@example.org>"}
    # The hook's subject and author win; a short pushed commit takes the full one.
    pushed = GitFacts.of_ref("refs/heads/main", SHA[:12], "Pushed", "P <p@example.org>")
    assert build(pushed, source(), parameters={"git_commit": SHA[:12]}).git_facts == GitFacts(
        "refs/heads/main", "main", None, SHA, "Pushed", "P <p@example.org>")
    # Another repository's commit tells nothing of the pushed one.
    other = GitFacts.of_ref("refs/heads/main", "abcd" * 10)
    assert build(other, source()).git_facts == other
    # No source: the pushed commit, as before.
    assert build(GitFacts(), parameters={"git_commit": SHA}).git_facts == GitFacts(commit=SHA)


def test_subjects_and_authors_are_one_capped_line() -> None:
    assert one_line(" a\r\nb\tc\x00d\x85e\u2028f  ") == "a b c d e f"
    assert one_line("x" * 500) == "x" * (MAX_GIT_LINE - 1) + "…"
    revision = SourceRevision.from_json({"commit": SHA, "subject": "a\nb", "author": 7})
    assert revision is not None
    assert (revision.subject, revision.author) == ("a b", None)
    assert SourceRevision("u", "r", SHA, "d").to_json() == {
        "url": "u", "ref": "r", "commit": SHA, "dir": "d"}
