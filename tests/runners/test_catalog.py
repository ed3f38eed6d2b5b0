"""The action type records (ick/runners/catalog.py): validation, the runners and ick doctor
all come from them, so a type is accepted exactly when it can run."""

from __future__ import annotations

import pytest

from ick.cli.doctor import tools
from ick.model import WHERES
from ick.runners.base import ActionType
from ick.runners.catalog import ACTION_TYPES, BY_KIND
from ick.runners.places import PLACE_TOOLS
from ick.runners.registry import Runners
from ick.runners.validate import validate_action


def minimal(action_type: ActionType) -> dict[str, object]:
    doc: dict[str, object] = {"where": action_type.wheres[0]}
    if action_type.value is not None:
        doc[action_type.kind] = {"shell": "true", "python": "pass", "debootstrap": "auto",
                                 "archive": "workspace"}[action_type.kind]
    else:
        doc["action"] = action_type.kind
    return doc


def test_kinds_are_unique_and_listed_by_kind() -> None:
    assert len(BY_KIND) == len(ACTION_TYPES)
    assert all(BY_KIND[t.kind] is t for t in ACTION_TYPES)


@pytest.mark.parametrize("action_type", ACTION_TYPES, ids=lambda t: t.kind)
def test_every_type_validates_and_has_a_runner(action_type: ActionType) -> None:
    assert validate_action(minimal(action_type), "a") == []
    runner = Runners().runner_for(action_type.kind)
    assert callable(getattr(runner, "run", None))
    assert set(action_type.wheres) <= set(WHERES)
    assert action_type.tools, "every type runs some host program that doctor should check"


@pytest.mark.parametrize("action_type", ACTION_TYPES, ids=lambda t: t.kind)
def test_wheres_come_from_the_record(action_type: ActionType) -> None:
    for where in WHERES:
        doc = {**minimal(action_type), "where": where}
        problems = validate_action(doc, "a")
        assert (problems == []) == (where in action_type.wheres), (where, problems)


def test_a_kind_without_a_record_is_refused_by_validation_and_by_the_runners() -> None:
    assert validate_action({"action": "deploy", "where": "host"}, "a") == [
        "a: unknown action 'deploy' (expected one of: "
        + ", ".join(t.kind for t in ACTION_TYPES if t.value is None) + ")"
    ]
    with pytest.raises(Exception, match="action type 'deploy' is not supported"):
        Runners().runner_for("deploy")


def test_a_runner_is_made_once_per_worker_process() -> None:
    runners = Runners()
    assert runners.runner_for("shell") is runners.runner_for("shell")
    assert Runners().runner_for("shell") is not runners.runner_for("shell")
    assert runners.shared.mirror_locks is runners.shared.mirror_locks


def test_doctor_checks_every_tool_a_record_or_a_place_names_once() -> None:
    listed = {command: (package, purpose) for command, package, purpose in tools()}
    assert len(listed) == len(tools())
    for tool in [t for a in ACTION_TYPES for t in a.tools] + list(PLACE_TOOLS):
        package, purpose = listed[tool.command]
        assert package == tool.package
        assert tool.purpose in purpose
    assert listed["unshare"] == ("util-linux", "the debootstrap action and where: chroot")
