"""Trigger planning: a project, its pipelines and the trigger's parameters in, a build's
parameters and actions out. Pure: the driver looks the resources up and stores the result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ick.errors import ConflictError, IckError, InputError
from ick.matrix import expand
from ick.model import (
    GATE_PARAMETER,
    NO_GIT,
    ActionRecord,
    ActionState,
    ActionTraits,
    GitFacts,
    Pipeline,
    PipelineEntry,
    Project,
)
from ick.scheduler.conditions import DEFAULT_STATUS, STATUSES, joint_statuses, plan_miss
from ick.scheduler.routing import merge_requirements

# The conditions an action is planned under: its project's entry's, its pipeline's, its own.
Conditions = tuple[Mapping[str, Any], ...]

NO_STATUS = "when: status: no status meets the conditions of the project's entry, the " \
    "pipeline and the action together"


@dataclass(frozen=True)
class Plan:
    parameters: dict[str, Any]
    actions: list[ActionRecord]  # job after job: every job has all the pipelines' actions
    jobs: list[dict[str, Any]] = field(default_factory=lambda: [{}])  # each job's own
    fail_fast: bool = False


# Parameters any project takes at trigger time: the hook and polls set them on every project.
ALWAYS_KNOWN = ("git_commit", "git_ref", "ick_trigger")

# The triggers that report a pushed ref: their builds are pushes (or tags).
REF_TRIGGERS = ("hook", "poll", "forge")


def event_of(ick_trigger: str, ref: object) -> str:
    """The event (ick.model.EVENTS) of a build that `ick_trigger` asked for, of ref `ref`."""
    if ick_trigger in REF_TRIGGERS:
        return "tag" if isinstance(ref, str) and ref.startswith("refs/tags/") else "push"
    if ick_trigger == "schedule":
        return "schedule"
    if ick_trigger == "gate":
        return "change"
    if "#" in ick_trigger:  # PROJECT#N: another project's triggers:
        return "downstream"
    return "manual"


def unknown_parameter_problem(project: Project, pipelines: list[Pipeline],
                              jobs: list[dict[str, Any]],
                              overrides: Mapping[str, Any]) -> str | None:
    """A trigger may name only parameters the project, its matrix or its pipelines know,
    unless the project says extra_parameters: true."""
    if project.extra_parameters:
        return None
    known = {*project.parameters, *ALWAYS_KNOWN}
    known.update(name for pipeline in pipelines for name in pipeline.parameters)
    known.update(name for job in jobs for name in job)
    # The gate's own, which the API never takes from a caller (ick.api.resources).
    unknown = sorted(set(overrides) - known - {GATE_PARAMETER})
    if not unknown:
        return None
    return (f"project {project.name!r} has no parameter {unknown[0]!r} "
            f"(known: {', '.join(sorted(known))}; "
            "a project with extra_parameters: true takes any)")


def _traits(pipeline: Pipeline) -> tuple[ActionTraits, ...]:
    """The pipeline's actions' traits, decided when it was checked (or, for one stored before
    ick kept them, when the daemon started): planning never works a kind out."""
    traits = pipeline.traits
    if not pipeline.actions:
        return ()
    if traits is None or len(traits) != len(pipeline.actions):
        raise IckError(f"pipeline {pipeline.name!r} has not been checked: its actions' types "
                       "are not known")
    return traits


def plan_build(
    project: Project, pipelines: Mapping[str, Pipeline | None], overrides: Mapping[str, Any],
    ick_trigger: str = "api", check: bool = True, event: str = "manual",
    git: GitFacts = NO_GIT,
) -> Plan:
    """The build a trigger of `project` makes; `pipelines` maps each name it uses to the
    pipeline, or to None where there is none of that name. `ick_trigger` (what asked for the
    build) becomes a parameter; with `check`, unknown parameters are refused. `event` and
    `git` are what caused the build and what it builds: an action whose `when:` conditions
    (its project entry's, its pipeline's, its own) do not hold for them, or for its job's
    parameters, is planned skipped, saying which key did not hold."""
    jobs = expand(project.matrix)
    found: list[tuple[PipelineEntry, Pipeline]] = []
    for entry in project.pipeline_entries():
        pipeline = pipelines.get(entry.name)
        if pipeline is None:
            raise ConflictError(
                f"project {project.name!r} names pipeline {entry.name!r}, which does not exist"
            )
        found.append((entry, pipeline))
    problem = unknown_parameter_problem(project, [p for _, p in found], jobs, overrides) \
        if check else None
    if problem is not None:
        raise InputError(problem)
    parameters = {**project.parameters, **overrides, "ick_trigger": ick_trigger,
                  "ick_event": event}
    actions: list[ActionRecord] = []
    conditions: list[Conditions] = []
    for entry, pipeline in found:
        pipeline_name = pipeline.name
        missing = [p for p in pipeline.parameters
                   if any(p not in parameters and p not in job for job in jobs)]
        if missing:
            raise InputError(
                f"pipeline {pipeline_name!r} requires parameter {missing[0]!r}, "
                f"which project {project.name!r} does not give"
            )
        for index, (spec, traits) in enumerate(zip(pipeline.actions, _traits(pipeline),
                                                   strict=True)):
            # Every level's `worker:` restricts where the build runs; each action carries
            # them all, so routing needs only the build (and survives a restart).
            needs = merge_requirements(
                (f"project {project.name!r}", project.worker),
                (f"pipeline {pipeline_name!r}", pipeline.worker),
                (f"action {index + 1} of pipeline {pipeline_name!r}", spec.get("worker")),
            )
            if needs:
                spec = {**spec, "worker": needs}
            whens = (entry.when, pipeline.when, spec.get("when") or {})
            spec = _with_status(spec, whens)
            conditions.append(whens)
            actions.append(ActionRecord(
                pipeline=pipeline_name, index=index, kind=traits.kind,
                where=str(spec.get("where", "host")), spec=spec,
                local=traits.local, arch_key=traits.arch_key,
            ))
    # One worker runs the whole build: its actions must agree on what it is.
    merge_requirements(*((f"action {a.index + 1} of pipeline {a.pipeline!r}",
                          a.spec.get("worker")) for a in actions))
    every = [_planned(a, whens, job, event, git, {**parameters, **values})
             for job, values in enumerate(jobs) for a, whens in zip(actions, conditions,
                                                                      strict=True)]
    return Plan(parameters, every, jobs, project.fail_fast)


def _with_status(spec: dict[str, Any], whens: Conditions) -> dict[str, Any]:
    """The action's spec, its `when:` saying the statuses it runs after when its levels'
    conditions together say other than the default: the machine reads only the action's."""
    status = joint_statuses(whens)
    if status == DEFAULT_STATUS:
        return spec
    own = spec.get("when") or {}
    return {**spec, "when": {**own, "status": [s for s in STATUSES if s in status]}}


def _planned(action: ActionRecord, whens: Conditions, job: int, event: str, git: GitFacts,
             parameters: Mapping[str, Any]) -> ActionRecord:
    """Job `job`'s copy of `action`: skipped, saying why, where a condition does not hold."""
    miss = next((m for w in whens if (m := plan_miss(w, event, git, parameters))), None)
    if miss is None and not joint_statuses(whens):
        miss = NO_STATUS
    if miss is None:
        return replace(action, job=job, spec=dict(action.spec))
    return replace(action, job=job, spec=dict(action.spec), state=ActionState.SKIPPED,
                   message=miss)


# Untrusted changes (DESIGN.md, "Forges"): a pull request's build runs code anyone who can
# open one wrote. An action that breaks the rules carries, under REFUSED in its spec, the
# rule it breaks; the dispatcher fails it with that, before any worker sees it.
REFUSED = "ick_refused"

# The rule an action breaks in an untrusted build, or None: (its kind, its spec, the build's
# parameters for its job). The runners' records know (ick.runners.untrusted).
Refusal = Callable[[str, Mapping[str, Any], Mapping[str, Any]], "str | None"]


@dataclass(frozen=True)
class RepositoryPipelines:
    """What a build's repository holds (`repository_pipelines:`): its pipelines by name, or
    the problem (`PATH:LINE: what`) that fails the build; the commit it was read at."""

    problem: str | None
    pipelines: Mapping[str, Pipeline] = field(default_factory=dict)
    commit: str | None = None


# Reads a project's repository pipelines for a trigger's overrides (ick.ickfile.repository).
RepositoryRead = Callable[[Project, Mapping[str, Any]], Awaitable[RepositoryPipelines]]


def failing_plan(project: Project, overrides: Mapping[str, Any], ick_trigger: str,
                 event: str, where: str, problem: str) -> Plan:
    """A build that fails at once, saying why (its one action, at `where`, is refused)."""
    parameters = {**project.parameters, **overrides, "ick_trigger": ick_trigger,
                  "ick_event": event}
    return Plan(parameters, [ActionRecord(pipeline=where, index=0, kind="repository_pipelines",
                                          where="host", spec={REFUSED: problem})])


def untrusted(project: Project, event: str | None, ick_trigger: str) -> bool:
    """Is a build a forge's change the project does not trust (`trust_changes: true`)?"""
    # A rebuild of a change is one too (ick.scheduler.dispatcher keeps its event).
    return event == "change" and ick_trigger in ("forge", "rebuild") \
        and not project.trust_changes


def refuse_untrusted(plan: Plan, refusal: Refusal, only: Collection[str] | None = None,
                     why: str = "untrusted change") -> Plan:
    """The plan with each action that breaks an untrusted change's rules marked REFUSED
    (with `only`, the actions of those pipelines), each message starting with `why`."""
    actions = []
    for action in plan.actions:
        parameters = {**plan.parameters, **plan.jobs[action.job]}
        rule = None if only is not None and action.pipeline not in only or REFUSED in \
            action.spec else refusal(action.kind, action.spec, parameters)
        actions.append(action if rule is None else replace(
            action, spec={**action.spec, REFUSED: f"{why}: {rule}"}))
    return replace(plan, actions=actions)
