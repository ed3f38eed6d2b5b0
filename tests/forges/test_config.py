"""`forge:` on a project, checked as `ick apply` checks it: each problem at its FILE:LINE."""

from __future__ import annotations

import textwrap

from ick.forges.config import forge_problems
from ick.ickfile import read_ick_text


def problems_of(text: str) -> list[str]:
    return read_ick_text(textwrap.dedent(text), "hello.ick")[1]


GOOD = """\
projects:
  - project: hello
    forge:
      type: forgejo
      url: https://forge.example.org/
      repository: alice/hello
      token_secret: forge_token
      webhook_secret: forge_hook
    trust_changes: true
"""


def test_a_good_forge_is_stored_as_written_without_the_url_s_trailing_slash() -> None:
    ickfile, problems = read_ick_text(GOOD, "hello.ick")
    assert problems == []
    [project] = ickfile.projects
    assert project.forge == {"type": "forgejo", "url": "https://forge.example.org",
                             "repository": "alice/hello", "token_secret": "forge_token",
                             "webhook_secret": "forge_hook"}
    assert project.trust_changes is True
    assert project.to_doc()["forge"] == project.forge


def test_each_bad_key_is_named_at_its_line() -> None:
    assert problems_of("""\
        projects:
          - project: hello
            forge:
              type: bitbucket
              url: ftp://forge.example.org
              repository: alice/hello
              webhook_secret: ../hook
              colour: red
            trust_changes: yes please
        """) == [
        "hello.ick:4: project 'hello': forge: 'type' must be one of forgejo, gitea, github, "
        "gitlab, not 'bitbucket'",
        "hello.ick:5: project 'hello': forge: 'url' must be the http or https URL of the "
        "forge's API, without query or credentials, not 'ftp://forge.example.org'",
        "hello.ick:7: project 'hello': forge: 'webhook_secret' must be a secret name (letters, "
        "digits, '.', '_' and '-'; at most 64 characters), not '../hook'",
        "hello.ick:8: project 'hello': forge: unknown key 'colour' (expected one of: "
        "repository, token_secret, type, url, webhook_secret)",
        "hello.ick:9: project 'hello': 'trust_changes' must be true or false, not 'yes please'",
    ]


def test_the_repository_is_checked_by_the_forge_s_own_rule() -> None:
    base = {"type": "github", "url": "https://api.github.com", "webhook_secret": "h"}
    assert forge_problems({**base, "repository": "octo/hello"}) == []
    assert forge_problems({**base, "repository": "hello"}) == [
        ("repository", "forge: 'repository' must be OWNER/NAME for github, not 'hello'")]
    gitlab = {**base, "type": "gitlab", "url": "https://gitlab.example.com"}
    assert forge_problems({**gitlab, "repository": "1234"}) == []
    assert forge_problems({**gitlab, "repository": "group/sub/hello"}) == []
    assert forge_problems({"type": "gitea"}) == [
        (None, "forge: missing 'url'"), (None, "forge: missing 'repository'"),
        (None, "forge: missing 'webhook_secret'")]
    assert forge_problems("forgejo") == [
        (None, "forge: must be a mapping with type, url, repository, webhook_secret, "
               "not 'forgejo'")]
