"""Reading .ick files and API resource documents into Projects and Pipelines.

One set of rules for both: a problem in a file is placed by FILE:LINE, in a document by its `where`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ick.errors import IckFileError
from ick.matrix import expand, matrix_problems
from ick.model import SECRET_NAME_RE, SECRET_NAME_RULE, Pipeline, Project, name_problem
from ick.notify.channel import DEFAULT_POINTS, OLD_POINTS, POINTS, WHENS, points_of
from ick.notify.channels import CHANNELS
from ick.runners.catalog import traits_of
from ick.runners.rules import show_value
from ick.runners.validate import action_problems
from ick.scheduler.conditions import when_problems
from ick.scheduler.routing import REQUIREMENT_RULE, is_requirement

Path = tuple[object, ...]
"""Where a value is in a document: keys and 0-based list indexes from the top."""

Problem = tuple[Path, str]

TOP_KEYS = ("pipelines", "projects")
PROJECT_KEYS = ("branches", "cancel_superseded", "concurrent", "environments",
                "extra_parameters", "fail_fast", "forge", "gate", "keep_builds", "keep_days",
                "keep_deployments", "matrix", "notify", "parameters", "pipelines", "poll",
                "project", "repository_pipelines", "schedule", "tags", "trigger_parameters",
                "triggers", "trust_changes", "trust_repository", "worker")
MAX_GLOB = 200  # characters of a `branches:` or `tags:` glob (git refs are rarely longer)
MAX_POLL = 366 * 86400.0  # seconds: a year between fetches is the most that means anything
PIPELINE_KEYS = ("actions", "parameters", "pipeline", "when", "worker")
ENTRY_KEYS = ("pipeline", "when")  # an entry of a project's pipelines: written as a mapping
ENVIRONMENT_KEYS = ("after", "approval", "auto", "environment", "keep_deployments",
                    "parameters", "pipelines", "url")
NOTIFY_KEYS = tuple(sorted({"on", "when", "secret", *(c.key for c in CHANNELS)}))

# Aliases can make a few lines of YAML into a value too big to store or send.
MAX_VALUES = 100_000

@dataclass
class IckFile:
    """The resources of one .ick file, and the line where each begins."""

    projects: list[Project] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)
    filename: str = ""
    lines: dict[tuple[str, str], int] = field(default_factory=dict)

    def where(self, kind: str, name: str) -> str:
        """The place, as FILE:LINE, of resource `name` of `kind` ("project" or "pipeline")."""
        line = self.lines.get((kind, name))
        return self.filename if line is None else f"{self.filename}:{line}"

    def reference_problems(self, known: Mapping[str, Pipeline] | None = None) -> list[str]:
        """check_references for this file's projects, its pipelines replacing those in `known`.
        A pipeline the file defines with problems of its own is not checked against (its
        problems say enough), nor is one on the daemon of the same name."""
        pipelines = dict(known or {})
        pipelines.update((pipeline.name, pipeline) for pipeline in self.pipelines)
        broken = self.broken_pipelines()
        return check_references(self.projects, pipelines, lambda name: self.where("project", name),
                                unchecked=broken)

    def broken_pipelines(self) -> set[str]:
        """Names of pipelines the file defines that did not parse."""
        parsed = {pipeline.name for pipeline in self.pipelines}
        return {name for kind, name in self.lines if kind == "pipeline" and name not in parsed}


def _say(context: str, message: str) -> str:
    return f"{context}: {message}" if context else message


def _label(kind: str, name: object, fallback: str) -> str:
    return f"{kind} {show_value(name)}" if isinstance(name, str) and name else fallback


def _unknown_keys(
    doc: dict[Any, Any], expected: tuple[str, ...], path: Path, context: str, out: list[Problem]
) -> None:
    for key in doc:
        if key not in expected:
            message = f"unknown key {show_value(key)} (expected one of: {', '.join(expected)})"
            out.append(((*path, key), _say(context, message)))


def _list(
    doc: dict[Any, Any], key: str, path: Path, context: str, what: str, out: list[Problem]
) -> list[object]:
    """doc[key] as a list; absent or null is an empty list."""
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        message = f"'{key}' must be a list of {what}, not {show_value(value)}"
        out.append(((*path, key), _say(context, message)))
        return []
    return value


def _json_problem(value: object) -> str | None:
    """What keeps `value` from being JSON data, which every stored value must be."""
    active: set[int] = set()  # the containers enclosing the one at hand
    sizes: dict[int, int] = {}  # values in each container checked, aliases expanded
    # (item, None) to check an item; (container, its children) once they are all checked.
    stack: list[tuple[object, list[object] | None]] = [(value, None)]
    while stack:
        item, children = stack.pop()
        if children is not None:
            active.discard(id(item))
            sizes[id(item)] = 1 + sum(sizes.get(id(child), 1) for child in children)
            if sizes[id(item)] > MAX_VALUES:
                return f"more than {MAX_VALUES} values once aliases are expanded"
        elif isinstance(item, float) and not math.isfinite(item):
            return f"{item} is not a JSON number"
        elif isinstance(item, list | dict):
            if id(item) in active:
                return "a value must not contain itself"
            if id(item) in sizes:
                continue
            for key in item if isinstance(item, dict) else ():
                if not isinstance(key, str):
                    return f"mapping keys must be strings, not {show_value(key)}"
            children = list(item.values() if isinstance(item, dict) else item)
            active.add(id(item))
            stack.append((item, children))
            stack.extend((child, None) for child in children)
        elif not (item is None or isinstance(item, str | int | float)):
            text = str(item) if len(str(item)) <= 40 else str(item)[:37] + "..."
            return f"{text} is a {type(item).__name__}, not JSON data (quote it to make a string)"
    return None


def _parameter_name_problem(name: object) -> str | None:
    if isinstance(name, str) and name:
        return None
    return f"a name must be a non-empty string, not {show_value(name)}"


def _names(
    doc: dict[Any, Any],
    key: str,
    problem_of: Callable[[object], str | None],
    path: Path,
    context: str,
    out: list[Problem],
) -> list[str]:
    """doc[key] as a list of names: a project's pipelines or a pipeline's parameters."""
    names: list[str] = []
    for index, name in enumerate(_list(doc, key, path, context, "names", out)):
        problem = problem_of(name)
        if problem is not None:
            out.append(((*path, key, index), _say(context, f"in '{key}': {problem}")))
        else:
            names.append(str(name))
    return names


def _when(doc: dict[Any, Any], path: Path, context: str, out: list[Problem]) -> dict[str, Any]:
    """doc's `when:` (a condition, DESIGN.md "Conditions"), checked; {} when absent."""
    if "when" not in doc:
        return {}
    found = when_problems(doc["when"])
    out.extend(((*path, "when", *where), _say(context, message)) for where, message in found)
    if not found and (problem := _json_problem(doc["when"])) is not None:
        out.append(((*path, "when"), _say(context, f"'when': {problem}")))
        return {}
    return {} if found else dict(doc["when"])


def _pipeline_entries(doc: dict[Any, Any], path: Path, context: str,
                      out: list[Problem]) -> list[str | dict[str, Any]]:
    """A project's `pipelines:` as written: names, or mappings {pipeline: NAME, when: {...}}."""
    entries: list[str | dict[str, Any]] = []
    for index, entry in enumerate(_list(doc, "pipelines", path, context, "names", out)):
        where = (*path, "pipelines", index)
        if isinstance(entry, dict):
            label = f"pipelines entry {index + 1} of {context}"
            before = len(out)
            _unknown_keys(entry, ENTRY_KEYS, where, label, out)
            if "pipeline" not in entry:
                out.append((where, f"{label}: missing 'pipeline' (the pipeline's name)"))
            elif (problem := name_problem(entry["pipeline"])) is not None:
                out.append(((*where, "pipeline"), f"{label}: {problem}"))
            when = _when(entry, where, label, out)
            if len(out) == before:
                entries.append({"pipeline": entry["pipeline"],
                                **({"when": when} if "when" in entry else {})})
        elif (problem := name_problem(entry)) is not None:
            also = "" if isinstance(entry, str) else " (or a mapping {pipeline: NAME, when: ...})"
            out.append((where, _say(context, f"in 'pipelines': {problem}{also}")))
        else:
            entries.append(str(entry))
    return entries


def _parameters(value: object, path: Path, context: str, out: list[Problem]) -> dict[str, Any]:
    """A project's 'parameters': names to any JSON values."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        message = f"'parameters' must be a mapping of names to values, not {show_value(value)}"
        out.append((path, _say(context, message)))
        return {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            message = f"a parameter name must be a non-empty string, not {show_value(key)}"
            out.append(((*path, key), _say(context, message)))
        elif (problem := _json_problem(item)) is not None:
            out.append(((*path, key), _say(context, f"parameter '{key}': {problem}")))
    return dict(value)


def _notify(doc: object, path: Path, context: str, out: list[Problem]) -> dict[str, Any] | None:
    """One notify entry, with 'when' and 'on' filled in, or None if it has problems. Which
    channels there are, and what each takes, the channel records say (ick.notify.channels)."""
    before = len(out)
    keys = " or ".join(repr(c.key) for c in CHANNELS)
    if not isinstance(doc, dict):
        out.append((path, f"{context}: must be a mapping with {keys}"))
        return None
    _unknown_keys(doc, NOTIFY_KEYS, path, context, out)
    named = [c for c in CHANNELS if c.key in doc]
    if not named:
        out.append((path, f"{context}: missing {keys}"))
    elif len(named) > 1:
        together = " and ".join(repr(c.key) for c in named)
        out.append(((*path, named[1].key), f"{context}: {together} together (give one per entry)"))
    for channel in named:
        if not channel.address_ok(doc[channel.key]):
            message = (f"'{channel.key}' must be {channel.address_rule}, "
                       f"not {show_value(doc[channel.key])}")
            out.append(((*path, channel.key), f"{context}: {message}"))
    when = doc.get("when", "always")
    if not isinstance(when, str) or when not in WHENS:
        message = f"'when' must be one of {', '.join(WHENS)}, not {show_value(when)}"
        out.append(((*path, "when"), f"{context}: {message}"))
    on = doc.get("on", list(DEFAULT_POINTS))
    if not (isinstance(on, list) and on and all(isinstance(item, str) and (
            item in POINTS or item in OLD_POINTS) for item in on)):
        message = f"'on' must be a list of {', '.join(POINTS)}, not {show_value(on)}"
        out.append(((*path, "on"), f"{context}: {message}"))
    secret = doc.get("secret")
    if "secret" in doc and not any(c.takes_secret for c in named):
        takers = " or ".join(f"'{c.key}'" for c in CHANNELS if c.takes_secret)
        out.append(((*path, "secret"), f"{context}: 'secret' goes only with {takers}"))
    elif "secret" in doc and not (isinstance(secret, str) and SECRET_NAME_RE.fullmatch(secret)):
        message = f"'secret' must be {SECRET_NAME_RULE}, not {show_value(secret)}"
        out.append(((*path, "secret"), f"{context}: {message}"))
    if len(out) > before:
        return None
    entry: dict[str, Any] = {
        named[0].key: doc[named[0].key],
        "when": when,
        "on": list(points_of(on)),
    }
    if "secret" in doc:
        entry["secret"] = secret
    return entry


def _project(doc: object, path: Path, label: str, out: list[Problem]) -> Project | None:
    """Check one project document; the Project, or None after adding its problems to `out`."""
    before = len(out)
    if not isinstance(doc, dict):
        out.append((path, f"{label} must be a mapping with a 'project' key, not {show_value(doc)}"))
        return None
    name = doc.get("project")
    context = _label("project", name, label)
    _unknown_keys(doc, PROJECT_KEYS, path, context, out)
    if "project" not in doc:
        out.append((path, f"{context}: missing 'project' (the project's name)"))
    elif (problem := name_problem(name)) is not None:
        out.append(((*path, "project"), f"{context}: {problem}"))
    parameters = _parameters(doc.get("parameters"), (*path, "parameters"), context, out)
    pipelines = _pipeline_entries(doc, path, context, out)
    notify = []
    for index, item in enumerate(_list(doc, "notify", path, context, "mappings", out)):
        where = f"notify {index + 1} of {context}"
        entry = _notify(item, (*path, "notify", index), where, out)
        if entry is not None:
            notify.append(entry)
    concurrent = doc.get("concurrent", False)
    if not isinstance(concurrent, bool):
        message = f"'concurrent' must be true or false, not {show_value(concurrent)}"
        out.append(((*path, "concurrent"), f"{context}: {message}"))
    worker = _worker(doc, path, context, out)
    matrix = doc.get("matrix")
    if matrix is not None:
        for inside, message in matrix_problems(matrix):
            out.append(((*path, "matrix", *inside), f"{context}: {message}"))
        if (problem := _json_problem(matrix)) is not None:
            out.append(((*path, "matrix"), f"{context}: matrix: {problem}"))
    fail_fast = doc.get("fail_fast", False)
    if not isinstance(fail_fast, bool):
        message = f"'fail_fast' must be true or false, not {show_value(fail_fast)}"
        out.append(((*path, "fail_fast"), f"{context}: {message}"))
    months = _months_keys(doc, path, context, out)
    # Names only: a name no pipeline knows yet is refused at trigger time like any other.
    allowed = _names(doc, "trigger_parameters", _parameter_name_problem, path, context, out)
    forge = _forge(doc, path, context, out)
    repository = _repository(doc, path, context, out)
    pushes = _push_keys(doc, path, context, out)
    gate = _gate(doc, path, context, out)
    environments = _environments(doc, path, context, out)
    if len(out) > before:
        return None
    return Project(str(name), parameters, pipelines, notify, concurrent, worker, matrix,
                   fail_fast, **months, trigger_parameters=list(dict.fromkeys(allowed)),
                   forge=forge, trust_changes=doc.get("trust_changes") is True,
                   repository_pipelines=repository,
                   trust_repository=doc.get("trust_repository") is True, **pushes,
                   gate=gate, environments=environments)


def _environment(doc: object, path: Path, context: str,
                 out: list[Problem]) -> dict[str, Any] | None:
    """One entry of `environments:`, as stored, or None after adding its problems."""
    before = len(out)
    if not isinstance(doc, dict):
        out.append((path, f"{context}: must be a mapping with an 'environment' key, "
                          f"not {show_value(doc)}"))
        return None
    name = doc.get("environment")
    _unknown_keys(doc, ENVIRONMENT_KEYS, path, context, out)
    if "environment" not in doc:
        out.append((path, f"{context}: missing 'environment' (the environment's name)"))
    elif (problem := name_problem(name)) is not None:
        out.append(((*path, "environment"), f"{context}: {problem}"))
    pipelines = _names(doc, "pipelines", name_problem, path, context, out)
    if not pipelines and "pipelines" not in doc:
        out.append((path, f"{context}: missing 'pipelines' (what a deployment runs)"))
    parameters = _parameters(doc.get("parameters"), (*path, "parameters"), context, out)
    url = doc.get("url")
    # Pages link it: only a web address, never javascript: or the like.
    if url is not None and not (isinstance(url, str) and len(url) <= 2000 and url.isprintable()
                                and url.startswith(("http://", "https://")) and " " not in url):
        out.append(((*path, "url"), f"{context}: 'url' must be an http:// or https:// "
                                    f"address, not {show_value(url)}"))
    auto = None
    if "auto" in doc:
        if not isinstance(doc["auto"], dict):
            out.append(((*path, "auto"), f"{context}: 'auto' must be a condition (as `when:` "
                                         f"takes), not {show_value(doc['auto'])}"))
        else:
            found = when_problems(doc["auto"])
            out.extend(((*path, "auto", *where), f"{context}: 'auto': {message}")
                       for where, message in found)
            auto = dict(doc["auto"])
    after = doc.get("after")
    if after is not None and (problem := name_problem(after)) is not None:
        out.append(((*path, "after"), f"{context}: 'after': {problem}"))
    approval = doc.get("approval", False)
    if not isinstance(approval, bool):
        message = f"'approval' must be true or false, not {show_value(approval)}"
        out.append(((*path, "approval"), f"{context}: {message}"))
    keep = doc.get("keep_deployments")
    if keep is not None and not (isinstance(keep, int) and not isinstance(keep, bool)
                                 and keep >= 1):
        message = f"'keep_deployments' must be a whole number of at least 1, not {show_value(keep)}"
        out.append(((*path, "keep_deployments"), f"{context}: {message}"))
    if len(out) > before:
        return None
    entry: dict[str, Any] = {"environment": name, "pipelines": list(dict.fromkeys(pipelines))}
    if parameters:
        entry["parameters"] = parameters
    for key, value in (("url", url), ("auto", auto), ("after", after), ("keep_deployments", keep)):
        if value is not None:
            entry[key] = value
    if approval:
        entry["approval"] = True
    return entry


def _environments(doc: dict[Any, Any], path: Path, context: str,
                  out: list[Problem]) -> list[dict[str, Any]]:
    """A project's `environments:`, each checked; names unique, `after:` naming one of
    them and making no loop."""
    entries: list[dict[str, Any]] = []
    places: dict[str, Path] = {}
    items = _list(doc, "environments", path, context, "mappings", out)
    # Every entry that names itself counts for `after:`, even one with problems of its own.
    after: dict[str, object] = {}
    for item in items:  # the first of a name counts: a second is refused below
        if isinstance(item, dict) and isinstance(item.get("environment"), str):
            after.setdefault(item["environment"], item.get("after"))
    for index, item in enumerate(items):
        where = (*path, "environments", index)
        name = item.get("environment") if isinstance(item, dict) else None
        label = f"environment {show_value(name)} of {context}" if isinstance(name, str) \
            else f"environments entry {index + 1} of {context}"
        entry = _environment(item, where, label, out)
        if entry is None:
            continue
        if entry["environment"] in places:
            out.append((where, f"{label}: defined more than once"))
            continue
        places[entry["environment"]] = where
        entries.append(entry)
    for entry in entries:
        name, where = entry["environment"], places[entry["environment"]]
        label = f"environment {show_value(name)} of {context}"
        target = entry.get("after")
        if target is None:
            continue
        if target not in after:
            known = ", ".join(sorted(after)) or "none"
            out.append(((*where, "after"), f"{label}: 'after' names environment "
                                           f"{show_value(target)}, which the project does not "
                                           f"have (it has: {known})"))
            continue
        seen = [name]
        step: object = target
        while isinstance(step, str) and step not in seen:
            seen.append(step)
            step = after.get(step)
        if step == name:
            loop = " -> ".join([*seen, name])
            out.append(((*where, "after"), f"{label}: 'after' makes a loop ({loop})"))
    return entries


def repository_path_problem(value: object) -> str | None:
    """What keeps `value` from being a file's path inside a repository, or None."""
    if not isinstance(value, str) or not value or len(value) > 255:
        return "a path of at most 255 characters in the repository"
    parts = value.split("/")
    if value.startswith("/") or any(p in ("", ".", "..") for p in parts) \
            or any(ord(c) < 32 or c == "\\" for c in value):
        return "a relative path in the repository, without '.', '..' or control characters"
    return None


def _repository(doc: dict[Any, Any], path: Path, context: str,
                out: list[Problem]) -> str | None:
    """`repository_pipelines:` and `trust_repository:` checked; the path."""
    trust = doc.get("trust_repository", False)
    if not isinstance(trust, bool):
        message = f"'trust_repository' must be true or false, not {show_value(trust)}"
        out.append(((*path, "trust_repository"), _say(context, message)))
    value = doc.get("repository_pipelines")
    if value is None:
        return None
    problem = repository_path_problem(value)
    if problem is not None:
        message = f"'repository_pipelines' must be {problem}, not {show_value(value)}"
        out.append(((*path, "repository_pipelines"), _say(context, message)))
        return None
    return str(value)


def _forge(doc: dict[Any, Any], path: Path, context: str,
           out: list[Problem]) -> dict[str, str] | None:
    """`forge:` and `trust_changes:` checked (ick.forges.config); the forge as stored."""
    trust = doc.get("trust_changes", False)
    if not isinstance(trust, bool):
        message = f"'trust_changes' must be true or false, not {show_value(trust)}"
        out.append(((*path, "trust_changes"), _say(context, message)))
    if doc.get("forge") is None:
        return None
    from ick.forges.config import checked, forge_problems

    problems = forge_problems(doc["forge"])
    for key, message in problems:
        inside = (*path, "forge") if key is None else (*path, "forge", key)
        out.append((inside, _say(context, message)))
    return None if problems else checked(doc["forge"])


def _gate(doc: dict[Any, Any], path: Path, context: str,
          out: list[Problem]) -> dict[str, str] | None:
    """`gate:` checked (ick.gate.config); the gate as stored."""
    if doc.get("gate") is None:
        return None
    from ick.gate.config import gate_problems

    parameters = doc.get("parameters")
    url = parameters.get("git_url") if isinstance(parameters, dict) else None
    problems = gate_problems(doc["gate"], url)
    for key, message in problems:
        inside = (*path, "gate") if key is None else (*path, "gate", key)
        out.append((inside, _say(context, message)))
    return None if problems else {str(k): str(v) for k, v in doc["gate"].items()}


def _glob_problem(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return f"a glob must be a non-empty string, not {show_value(value)}"
    if len(value) > MAX_GLOB or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return (f"bad glob {show_value(value[:40])}: at most {MAX_GLOB} characters, no "
                "control characters")
    return None


def _push_keys(doc: dict[Any, Any], path: Path, context: str,
               out: list[Problem]) -> dict[str, Any]:
    """branches, tags and cancel_superseded (DESIGN.md, "What was pushed"), each checked;
    the valid ones as Project's keyword arguments."""
    found: dict[str, Any] = {}
    for key in ("branches", "tags"):
        if key not in doc:
            continue
        globs: list[str] = []
        for index, glob in enumerate(_list(doc, key, path, context, "globs", out)):
            problem = _glob_problem(glob)
            if problem is not None:
                out.append(((*path, key, index), _say(context, f"in '{key}': {problem}")))
            else:
                globs.append(str(glob))
        found[key] = list(dict.fromkeys(globs))
    value = doc.get("cancel_superseded", False)
    if isinstance(value, bool):
        found["cancel_superseded"] = value
    else:
        message = f"'cancel_superseded' must be true or false, not {show_value(value)}"
        out.append(((*path, "cancel_superseded"), _say(context, message)))
    return found


def _number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _months_keys(doc: dict[Any, Any], path: Path, context: str,
                 out: list[Problem]) -> dict[str, Any]:
    """keep_builds, keep_days, schedule, poll, triggers, extra_parameters (DESIGN.md,
    "Running for months"), each checked; the valid ones as Project's keyword arguments."""
    found: dict[str, Any] = {}

    def bad(key: str, rule: str) -> None:
        message = f"'{key}' must be {rule}, not {show_value(doc[key])}"
        out.append(((*path, key), _say(context, message)))

    value = doc.get("keep_builds")
    if value is not None:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            found["keep_builds"] = value
        else:
            bad("keep_builds", "a whole number of at least 1")
    value = doc.get("keep_deployments")
    if value is not None:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            found["keep_deployments"] = value
        else:
            bad("keep_deployments", "a whole number of at least 1")
    value = doc.get("keep_days")
    if value is not None:
        if _number(value) and value > 0:
            found["keep_days"] = value
        else:
            bad("keep_days", "a positive number of days")
    value = doc.get("schedule")
    if value is not None:
        from ick.scheduler.timetable import schedule_problem

        problem = schedule_problem(value)
        if problem is None:
            found["schedule"] = value
        else:
            out.append(((*path, "schedule"), _say(context, f"'schedule': {problem}")))
    value = doc.get("poll")
    if value is not None:
        if _number(value) and 1 <= value <= MAX_POLL:
            found["poll"] = value
        else:
            bad("poll", f"a number of seconds from 1 to {MAX_POLL:.0f}")
    triggers = _names(doc, "triggers", name_problem, path, context, out)
    if isinstance(doc.get("project"), str) and doc["project"] in triggers:
        out.append(((*path, "triggers"), _say(context, "'triggers' must not name the project "
                                                       "itself (its builds would never end)")))
    found["triggers"] = list(dict.fromkeys(triggers))
    value = doc.get("extra_parameters", False)
    if isinstance(value, bool):
        found["extra_parameters"] = value
    else:
        bad("extra_parameters", "true or false")
    return found


def _worker(doc: dict[Any, Any], path: Path, context: str, out: list[Problem]) -> dict[str, str]:
    """A project's or pipeline's `worker:` requirements (labels its worker must have)."""
    value = doc.get("worker", {})
    if not is_requirement(value):
        out.append(((*path, "worker"),
                    f"{context}: 'worker' must be {REQUIREMENT_RULE}, not {show_value(value)}"))
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _action(doc: object, path: Path, context: str, out: list[Problem]) -> None:
    found = action_problems(doc)
    out.extend(((*path, *where), f"{context}: {message}") for where, message in found)
    if isinstance(doc, dict):
        seen = {where[:1] for where, _ in found}
        for key, value in doc.items():
            if (key,) not in seen and (problem := _json_problem(value)) is not None:
                out.append(((*path, key), f"{context}: '{key}': {problem}"))


def _pipeline(doc: object, path: Path, label: str, out: list[Problem]) -> Pipeline | None:
    """Check one pipeline document; the Pipeline, or None after adding its problems to `out`."""
    before = len(out)
    if not isinstance(doc, dict):
        message = f"{label} must be a mapping with a 'pipeline' key, not {show_value(doc)}"
        out.append((path, message))
        return None
    name = doc.get("pipeline")
    context = _label("pipeline", name, label)
    _unknown_keys(doc, PIPELINE_KEYS, path, context, out)
    if "pipeline" not in doc:
        out.append((path, f"{context}: missing 'pipeline' (the pipeline's name)"))
    elif (problem := name_problem(name)) is not None:
        out.append(((*path, "pipeline"), f"{context}: {problem}"))
    parameters = _names(doc, "parameters", _parameter_name_problem, path, context, out)
    actions = _list(doc, "actions", path, context, "actions", out)
    for index, action in enumerate(actions):
        _action(action, (*path, "actions", index), f"action {index + 1} of {context}", out)
    worker = _worker(doc, path, context, out)
    when = _when(doc, path, context, out)
    if len(out) > before:
        return None
    checked = [dict(a) for a in actions if isinstance(a, dict)]
    # The kinds are decided here, once, and stored with the pipeline (see ActionTraits).
    return Pipeline(str(name), parameters, checked, worker,
                    traits=tuple(traits_of(a) for a in checked), when=when)


def _line(lines: dict[Path, int], path: Path) -> int:
    """The line of `path`, or of the nearest enclosing value that has one."""
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path, 1)


_R = TypeVar("_R", Project, Pipeline)


def _resources(
    data: dict[Any, Any],
    kind: str,
    check: Callable[[object, Path, str, list[Problem]], _R | None],
    ickfile: IckFile,
    lines: dict[Path, int],
    out: list[Problem],
) -> list[_R]:
    """The projects or pipelines of a file, each name recorded with its line, once."""
    resources: list[_R] = []
    key = f"{kind}s"
    for index, doc in enumerate(_list(data, key, (), "", key, out)):
        path = (key, index)
        resource = check(doc, path, f"{kind} {index + 1}", out)
        name = doc.get(kind) if isinstance(doc, dict) else None
        if isinstance(name, str) and (kind, name) in ickfile.lines:
            first = ickfile.lines[(kind, name)]
            message = f"defined more than once (first at line {first})"
            out.append((path, f"{kind} {show_value(name)}: {message}"))
        elif isinstance(name, str):
            ickfile.lines[(kind, name)] = _line(lines, path)
        if resource is not None:
            resources.append(resource)
    return resources


def load_ick_text(text: str, filename: str) -> IckFile:
    """The resources in .ick text, or IckFileError with every problem as "FILE:LINE: what"."""
    ickfile, problems = read_ick_text(text, filename)
    if problems:
        raise IckFileError(problems)
    return ickfile


def read_ick_text(text: str, filename: str) -> tuple[IckFile, list[str]]:
    """The resources of .ick text that are well formed, and every problem of the others as
    "FILE:LINE: what", in line order (so references can be checked on what did parse)."""
    # Imported here: the daemon validates JSON documents and never needs a YAML parser.
    from ick.ickfile.yamllines import YamlProblem, parse_with_lines

    ickfile = IckFile(filename=filename)
    try:
        data, lines, found = parse_with_lines(text)
    except YamlProblem as exc:
        return ickfile, [f"{filename}:{exc.line}: {exc.message}"]
    except RecursionError:
        return ickfile, [f"{filename}: invalid yaml: nested too deeply"]
    problems: list[Problem] = []
    if isinstance(data, dict):
        _unknown_keys(data, TOP_KEYS, (), "", problems)
        ickfile.projects = _resources(data, "project", _project, ickfile, lines, problems)
        ickfile.pipelines = _resources(data, "pipeline", _pipeline, ickfile, lines, problems)
    elif data is not None:
        expected = "a mapping with 'projects' and 'pipelines'"
        problems.append(((), f"the top level must be {expected}, not {show_value(data)}"))
    found.extend((_line(lines, path), message) for path, message in problems)
    found.sort(key=lambda problem: problem[0])
    return ickfile, [f"{filename}:{line}: {message}" for line, message in found]


def load_ick_file(path: str) -> IckFile:
    """The resources in the .ick file at `path`; see load_ick_text."""
    ickfile, problems = read_ick_file(path)
    if problems:
        raise IckFileError(problems)
    return ickfile


def read_ick_file(path: str) -> tuple[IckFile, list[str]]:
    """What parsed of the .ick file at `path`, and its problems; see read_ick_text."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return IckFile(filename=path), [f"{path}: cannot read: {reason[:1].lower()}{reason[1:]}"]
    except UnicodeDecodeError as exc:
        return IckFile(filename=path), [f"{path}: cannot read: not utf-8 text (byte {exc.start})"]
    return read_ick_text(text, path)


def _raise_for(where: str, problems: list[Problem]) -> None:
    if problems:
        raise IckFileError([_say(where, message) for _, message in problems])


def project_from_doc(doc: object, where: str) -> Project:
    """The Project a JSON document describes, or IckFileError with each problem after `where`."""
    problems: list[Problem] = []
    project = _project(doc, (), "project", problems)
    _raise_for(where, problems)
    assert project is not None  # _project adds a problem whenever it gives None
    return project


def pipeline_from_doc(doc: object, where: str) -> Pipeline:
    """The Pipeline a JSON document describes, or IckFileError with each problem after `where`."""
    problems: list[Problem] = []
    pipeline = _pipeline(doc, (), "pipeline", problems)
    _raise_for(where, problems)
    assert pipeline is not None  # _pipeline adds a problem whenever it gives None
    return pipeline


def check_references(
    projects: list[Project],
    pipelines: Mapping[str, Pipeline],
    where: Callable[[str], str] | None = None,
    unchecked: Collection[str] = (),
) -> list[str]:
    """Problems between resources: missing pipelines, required parameters a project lacks.

    `where(project_name)`, when given, names the place of a project ("hello.ick:3");
    pipelines named in `unchecked` are taken as they come (they have problems of their own).
    """
    problems: list[str] = []
    for project in projects:
        prefix = where(project.name) if where is not None else ""
        for environment in project.environment_list():
            for name in environment.pipelines:
                if name in unchecked or name in pipelines:
                    continue
                if project.repository_pipelines is not None:
                    continue
                message = (f"environment '{environment.name}' of project '{project.name}' "
                           f"names pipeline '{name}', which does not exist")
                problems.append(_say(prefix, message))
        for name in project.pipeline_names():
            if name in unchecked:
                continue
            pipeline = pipelines.get(name)
            if pipeline is None and project.repository_pipelines is not None:
                continue  # its repository may define it: each build looks there first
            if pipeline is None:
                message = f"project '{project.name}' names pipeline '{name}', which does not exist"
                problems.append(_say(prefix, message))
                continue
            jobs = expand(project.matrix)
            for parameter in dict.fromkeys(pipeline.parameters):
                if parameter not in project.parameters and any(parameter not in j for j in jobs):
                    message = (
                        f"project '{project.name}' does not give parameter '{parameter}'"
                        f" that pipeline '{name}' requires"
                    )
                    problems.append(_say(prefix, message))
    return problems
