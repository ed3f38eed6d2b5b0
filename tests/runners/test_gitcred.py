"""Credentials for git actions: passwords hidden in what is logged, git's reasons, ssh keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from ick.errors import ActionError
from ick.runners.gitcred import RedactingOutput, git_reason, redact, ssh_env, strip_password


@pytest.mark.parametrize(("text", "shown"), [
    ("https://user:s3cret@example.org/x.git", "https://user:***@example.org/x.git"),
    ("https://user:p@ss@example.org/x.git", "https://user:***@example.org/x.git"),
    ("https://ghp_token123@github.com/a/b.git", "https://***@github.com/a/b.git"),
    ("ssh://git@example.org/x.git", "ssh://git@example.org/x.git"),
    ("git@example.org:x.git", "git@example.org:x.git"),
    ("git://example.org/x.git", "git://example.org/x.git"),
    ("fatal: unable to access 'http://u:pw@h:8/x/': refused",
     "fatal: unable to access 'http://u:***@h:8/x/': refused"),
])
def test_redact_hides_passwords_and_http_tokens(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_strip_password_keeps_the_user() -> None:
    assert strip_password("https://user:s3cret@example.org/x") == "https://user@example.org/x"
    assert strip_password("https://tok3n@example.org/x") == "https://example.org/x"
    assert strip_password("ssh://git@example.org/x") == "ssh://git@example.org/x"


def test_redacting_output_hides_a_password_split_across_chunks() -> None:
    logged: list[bytes] = []
    out = RedactingOutput(logged.append, lambda text: text.replace("sekrit", "***"))
    out(b"fatal: http://u:sek")
    out(b"rit@host/x\npartial ")
    out(b"line sekr")
    out(b"it")
    out.flush()
    assert b"".join(logged) == b"fatal: http://u:***@host/x\npartial line ***\n"
    assert out.reason() == "http://u:***@host/x"  # the fatal line, not merely the last


def test_git_reason_is_the_last_fatal_line() -> None:
    assert git_reason(["hint: x", "fatal: repository not found", "bye"]) == "repository not found"
    assert git_reason(["just this"]) == "just this"
    assert git_reason(["Permission denied (publickey).",
                       "fatal: Could not read from remote repository.", "",
                       "Please make sure you have the correct access rights"]) == (
        "Permission denied (publickey).")
    assert git_reason([]) == "no output"


def test_ssh_env_uses_the_named_secrets_and_never_skips_host_checks(tmp_path: Path) -> None:
    assert ssh_env(None, None, [tmp_path]) == {}
    (tmp_path / "deploy_key").write_text("key")
    (tmp_path / "hosts").write_text("hosts")
    env = ssh_env("deploy_key", None, [tmp_path / "nothing", tmp_path])
    assert env == {"GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes "
                                      f"-i {tmp_path}/deploy_key -o IdentitiesOnly=yes"}
    env = ssh_env("deploy_key", "hosts", [tmp_path])
    assert env["GIT_SSH_COMMAND"].endswith(
        f"-o UserKnownHostsFile={tmp_path}/hosts -o GlobalKnownHostsFile=/dev/null "
        "-o UpdateHostKeys=no")
    with pytest.raises(ActionError, match="^secret other_key is not set$"):
        ssh_env("other_key", None, [tmp_path])
    with pytest.raises(ActionError, match="^ssh_key_secret must be a secret name, not '../x'$"):
        ssh_env("../x", None, [tmp_path])
