"""The build records of ick/model.py are frozen snapshots; jobs have one name on disk."""

from __future__ import annotations

import dataclasses

import pytest

from ick.model import ActionRecord, Build, BuildState, build_of_job_name, job_name


def test_a_build_snapshot_cannot_be_changed_and_keeps_tuples() -> None:
    build = Build(id=1, project="p", number=1, state=BuildState.QUEUED, parameters={},
                  queued_at="t0", actions=[ActionRecord("pl", 0, "shell", "host", {})])
    assert isinstance(build.actions, tuple) and isinstance(build.jobs, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        build.state = BuildState.RUNNING  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        build.actions[0].state = "running"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        build.jobs[0].state = BuildState.RUNNING  # type: ignore[misc]


@pytest.mark.parametrize(("build_id", "job", "name"), [(7, None, "7"), (7, 0, "7.0"),
                                                       (12, 3, "12.3")])
def test_a_job_name_reads_back_as_its_build(build_id: int, job: int | None, name: str) -> None:
    assert job_name(build_id, job) == name
    assert build_of_job_name(name) == build_id


@pytest.mark.parametrize("name", ["", ".spare", "7.x", "x.1", "٣"])
def test_other_names_are_no_build(name: str) -> None:
    assert build_of_job_name(name) is None
