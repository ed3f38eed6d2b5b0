"""What a trigger may choose (ick/keepers/triggers.py), table-driven and pure."""

from __future__ import annotations

import pytest

from ick.errors import ForbiddenError
from ick.keepers.triggers import check_parameters, check_rebuild, settable
from ick.model import Project
from ick.storage.tokens import TokenRecord

PROJECT = Project("site", {"git_url": "/srv/site.git", "flavour": "plain"}, ["p"],
                  trigger_parameters=["flavour"])


def token(*scopes: str) -> TokenRecord:
    return TokenRecord("k", "t", "h", frozenset(scopes), "T0")


def test_write_and_admin_set_anything_trigger_only_what_the_project_lists() -> None:
    assert settable(token("trigger", "write"), PROJECT) is None
    assert settable(token("admin"), PROJECT) is None
    assert settable(token("trigger"), PROJECT) == {"git_ref", "git_commit", "flavour"}
    assert settable(token("trigger"), Project("bare")) == {"git_ref", "git_commit"}


@pytest.mark.parametrize(("names", "refused"), [
    ([], None), (["git_ref", "git_commit", "flavour"], None), (["git_url"], "git_url"),
    (["flavour", "rsync_target", "git_url"], "git_url"),
])
def test_check_parameters_names_the_first_refused(names: list[str], refused: str | None) -> None:
    check_parameters(token("trigger", "write"), PROJECT, names)
    if refused is None:
        check_parameters(token("trigger"), PROJECT, names)
        return
    with pytest.raises(ForbiddenError, match=f"may not set parameter '{refused}' of project"):
        check_parameters(token("trigger"), PROJECT, names)


@pytest.mark.parametrize(("parameters", "refused"), [
    ({"git_url": "/srv/site.git", "flavour": "x", "git_ref": "r", "ick_trigger": "hook"},
     None),
    ({"git_url": "/tmp/evil", "ick_trigger": "api"}, "git_url"),
    ({"version": "1.2"}, "version"),  # set with write once: not the project's own
])
def test_a_rebuild_differs_from_the_project_only_in_what_the_token_may_set(
        parameters: dict[str, str], refused: str | None) -> None:
    check_rebuild(token("write"), PROJECT, parameters)
    if refused is None:
        check_rebuild(token("trigger"), PROJECT, parameters)
        return
    with pytest.raises(ForbiddenError, match=f"parameter '{refused}'"):
        check_rebuild(token("trigger"), PROJECT, parameters)
