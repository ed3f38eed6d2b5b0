"""ick's git never runs hooks or configuration found in a workspace, and values with a line
break never reach its command lines."""

from __future__ import annotations

from pathlib import Path

import yaml

from ick.runners.gitsafe import config_text
from tests.daemon import Daemon
from tests.gitrepos import Repo


def test_only_what_a_clone_needs_is_kept_of_a_repository_s_config() -> None:
    text = config_text([
        ("core.repositoryformatversion", "0"), ("core.bare", "false"),
        ("core.fsmonitor", "touch /tmp/x"), ("core.hookspath", "/tmp/hooks"),
        ("core.worktree", "/etc"), ("core.sshcommand", "touch /tmp/y"),
        ("include.path", "/tmp/more"), ("filter.evil.smudge", "touch /tmp/z"),
        ("remote.origin.url", 'a "quoted" \\ url'), ("remote.origin.uploadpack", "touch /tmp/u"),
        ("branch.main.remote", "origin"), ("branch.main.merge", "refs/heads/main"),
        ("url./tmp/evil.insteadof", "/srv"), ("extensions.objectformat", "sha1"),
    ])
    assert text == (
        '[core]\n\trepositoryformatversion = "0"\n\tbare = "false"\n'
        '[remote "origin"]\n\turl = "a \\"quoted\\" \\\\ url"\n'
        '[branch "main"]\n\tremote = "origin"\n\tmerge = "refs/heads/main"\n'
        '[extensions]\n\tobjectformat = "sha1"\n'
    )


def test_a_later_git_action_runs_no_hook_or_command_an_earlier_action_planted(
    daemon: Daemon, tmp_path: Path,
) -> None:
    repo = Repo(tmp_path, "planted")
    repo.commit("first", {"README": "one\n"})
    repo.push()
    marks = tmp_path / "marks"
    marks.mkdir()
    plant = f"""
        cd src
        mkdir -p .git/hooks
        for hook in post-checkout pre-auto-gc reference-transaction post-index-change; do
            printf '#!/bin/sh\\ntouch {marks}/hook-%s\\n' $hook > .git/hooks/$hook
            chmod +x .git/hooks/$hook
        done
        git config core.fsmonitor "touch {marks}/fsmonitor"
        git config core.hooksPath .git/hooks
        git config filter.evil.smudge "touch {marks}/smudge; cat"
        git config filter.evil.required true
        echo '* filter=evil' > .git/info/attributes
        git config core.sshCommand "touch {marks}/ssh"
        git config url.ssh://example.invalid/x.insteadOf {repo.bare}
        printf '[core]\\n\\tfsmonitor = touch {marks}/include\\n' > {tmp_path}/more.cfg
        git config include.path {tmp_path}/more.cfg
        git config core.worktree {marks}
    """
    daemon.apply(yaml.safe_dump({
        "projects": [{"project": "planted", "pipelines": ["planted"],
                      "parameters": {"git_url": str(repo.bare)},
                      "extra_parameters": True}],
        "pipelines": [{"pipeline": "planted", "actions": [
            {"action": "git", "where": "host", "git_dir": "src"},
            {"shell": plant, "where": "host"},
            {"action": "git", "where": "host", "git_dir": "src"},
            {"shell": "test -f src/README", "where": "host"},
        ]}],
    }))
    build = daemon.wait_build(daemon.trigger("planted"))
    log = daemon.wait_log(build["id"], "ick: build")
    assert build["state"] == "succeeded", log
    assert sorted(p.name for p in marks.iterdir()) == []


def test_a_line_break_in_a_setting_never_reaches_git(daemon: Daemon, tmp_path: Path) -> None:
    repo = Repo(tmp_path, "nl")
    repo.commit()
    repo.push()
    daemon.apply(yaml.safe_dump({
        "projects": [{"project": "nl", "pipelines": ["nl"],
                      "parameters": {"git_url": str(repo.bare)},
                      "extra_parameters": True}],
        "pipelines": [{"pipeline": "nl", "actions": [{"action": "git", "where": "host"}]}],
    }))
    for key, value in [("git_ref", "main\n--upload-pack=touch /tmp/x"),
                       ("git_url", "/srv\r\nick: build 1 succeeded"), ("git_dir", "a\0b")]:
        status, doc = daemon.api("POST", "/projects/nl/+trigger", {"parameters": {key: value}})
        assert status == 201, doc
        build = daemon.wait_build(doc["id"])
        assert build["state"] == "failed"
        assert build["actions"][0]["message"] == (
            f"{key}: a value with a newline, a carriage return or a NUL is refused")
