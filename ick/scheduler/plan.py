"""Trigger planning: a project, its pipelines and the trigger's parameters in, a build's
parameters and actions out. Pure: the driver looks the resources up and stores the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ick.errors import ConflictError, InputError
from ick.matrix import expand
from ick.model import ActionRecord, Pipeline, Project, action_kind
from ick.scheduler.routing import merge_requirements


@dataclass(frozen=True)
class Plan:
    parameters: dict[str, Any]
    actions: list[ActionRecord]  # job after job: every job has all the pipelines' actions
    jobs: list[dict[str, Any]] = field(default_factory=lambda: [{}])  # each job's own
    fail_fast: bool = False


def plan_build(
    project: Project, pipelines: Mapping[str, Pipeline | None], overrides: Mapping[str, Any]
) -> Plan:
    """The build a trigger of `project` makes; `pipelines` maps each name it uses to the
    pipeline, or to None where there is none of that name."""
    parameters = {**project.parameters, **overrides}
    jobs = expand(project.matrix)
    actions: list[ActionRecord] = []
    for pipeline_name in project.pipelines:
        pipeline = pipelines.get(pipeline_name)
        if pipeline is None:
            raise ConflictError(
                f"project {project.name!r} names pipeline {pipeline_name!r}, which does not exist"
            )
        missing = [p for p in pipeline.parameters
                   if any(p not in parameters and p not in job for job in jobs)]
        if missing:
            raise InputError(
                f"pipeline {pipeline_name!r} requires parameter {missing[0]!r}, "
                f"which project {project.name!r} does not give"
            )
        for index, spec in enumerate(pipeline.actions):
            # Every level's `worker:` restricts where the build runs; each action carries
            # them all, so routing needs only the build (and survives a restart).
            needs = merge_requirements(
                (f"project {project.name!r}", project.worker),
                (f"pipeline {pipeline_name!r}", pipeline.worker),
                (f"action {index + 1} of pipeline {pipeline_name!r}", spec.get("worker")),
            )
            if needs:
                spec = {**spec, "worker": needs}
            actions.append(ActionRecord(
                pipeline=pipeline_name, index=index, kind=action_kind(spec),
                where=str(spec.get("where", "host")), spec=spec,
            ))
    # One worker runs the whole build: its actions must agree on what it is.
    merge_requirements(*((f"action {a.index + 1} of pipeline {a.pipeline!r}",
                          a.spec.get("worker")) for a in actions))
    every = [replace(a, job=job, spec=dict(a.spec)) for job in range(len(jobs)) for a in actions]
    return Plan(parameters, every, jobs, project.fail_fast)
