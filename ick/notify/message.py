"""What a notification says: one JSON document of facts, and the mail rendered from it.

Pure functions of the build, its log tail and the daemon's public URL; no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ick.model import SOURCES_KEY, ActionState, Build, BuildState
from ick.notify.rules import change_word
from ick.storage.masking import Masker
from ick.timefmt import parse_iso

TAIL_LINES = 200
TAIL_BYTES = 256 * 1024  # enough for 200 long lines; a huge log is never read whole


def log_tail(data: bytes, from_start: bool, lines: int = TAIL_LINES) -> str:
    """The last `lines` lines of the end of a log; `data` is its last bytes.

    When `data` does not start at the start of the log its first line is cut, so it is dropped.
    """
    text = data.decode("utf-8", errors="replace")
    parts = text.splitlines()
    if not from_start and parts:
        parts = parts[1:]
    return "\n".join(parts[-lines:])


def duration(build: Build) -> float | None:
    if not build.started_at or not build.finished_at:
        return None
    seconds = (parse_iso(build.finished_at) - parse_iso(build.started_at)).total_seconds()
    return round(seconds, 3)


def _failed_action(build: Build) -> dict[str, Any] | None:
    """The first action that failed (else the first interrupted or cancelled one); with
    several jobs, which job's it is."""
    for bad in (ActionState.FAILED, ActionState.INTERRUPTED, ActionState.CANCELLED):
        for action in build.actions:
            if action.state == bad:
                doc: dict[str, Any] = {
                    "pipeline": action.pipeline, "index": action.index, "kind": action.kind,
                    "where": action.where, "state": action.state.value,
                    "exit_code": action.exit_code, "message": action.message}
                if len(build.jobs) > 1:
                    doc["job"] = action.job
                return doc
    return None


def failed_jobs(build: Build) -> list[dict[str, Any]]:
    """The jobs that failed, each with its own parameters (the matrix's values)."""
    return [{"job": j.job, "parameters": j.parameters, "title": j.title()}
            for j in build.jobs if j.state is BuildState.FAILED]


def _git(build: Build) -> list[Any]:
    """The source revisions actions reported, as they reported them: one entry (url, ref,
    commit, dir) a source."""
    found: list[Any] = []
    for action in build.actions:
        entries = action.details.get(SOURCES_KEY)
        found += entries if isinstance(entries, list) else [] if entries is None else [entries]
    return found


def facts(build: Build, event: str, tail: str, base_url: str,
          previous: BuildState | None) -> dict[str, Any]:
    """The JSON document a webhook receives; the mail says the same. `event` is start, end
    or action_failed (as the action failed, or with the build's end)."""
    ended = event != "start" and build.state.finished
    return {
        "event": event,
        "project": build.project,
        "build": build.id,
        "number": build.number,
        "state": build.state.value if ended else "running",
        "change": change_word(build.state, previous) if ended else None,
        "previous_state": previous.value if previous is not None else None,
        "url": f"{base_url.rstrip('/')}/ui/builds/{build.id}",  # the build's page
        "queued_at": build.queued_at,
        "started_at": build.started_at,
        "finished_at": build.finished_at if ended else None,
        "duration": duration(build) if ended else None,
        "parameters": build.parameters,
        "git_commit": build.commit,
        "git": _git(build),
        "failed_action": _failed_action(build) if event != "start" else None,
        "jobs": len(build.jobs),
        "failed_jobs": failed_jobs(build) if ended else [],
        "log_tail": tail if ended else "",
        # A gate candidate's build: what the gate made of it (the point `gate` tells it).
        "gate": None if build.gate is None else build.gate.to_json(),
    }


# The points of a deployment (DESIGN.md, "Continuous delivery"): a notification's stored
# event is POINT#ID (one decision per deployment), its message's event the point.
DEPLOYMENT_POINTS = ("deployment", "approval")


def deployment_event(point: str, deployment_id: int) -> str:
    return f"{point}#{deployment_id}"


def deployment_of_event(event: str) -> tuple[str, int] | None:
    """(point, deployment id) of a stored event made by deployment_event, else None."""
    point, sep, number = event.partition("#")
    if not sep or point not in DEPLOYMENT_POINTS or not number.isdigit():
        return None
    return point, int(number)


def deployment_facts(point: str, deployment: dict[str, Any], build: Build,
                     base_url: str) -> dict[str, Any]:
    """The document of a deployment's point: `deployment` (it ended) or `approval` (it
    waits); the keys a build's document has, and the deployment's own."""
    base = base_url.rstrip("/")
    project, environment = deployment["project"], deployment["environment"]
    return {
        "event": point,
        "project": project,
        "build": build.id,
        "number": build.number,
        # An approval's message says it waits, however late it is sent.
        "state": "waiting" if point == "approval" else deployment["state"],
        "change": None,
        "previous_state": None,
        "url": f"{base}/ui/projects/{project}/environments/{environment}",
        "queued_at": build.queued_at,
        "started_at": deployment["started_at"],
        "finished_at": deployment["finished_at"],
        "duration": None,
        "parameters": build.parameters,
        "git_commit": build.commit,
        "git": [],
        "failed_action": None,
        "jobs": len(build.jobs),
        "failed_jobs": [],
        "log_tail": "",
        "environment": environment,
        "deployment": deployment,
    }


def masked(doc: Any, values: Iterable[bytes]) -> Any:
    """`doc` with every secret value in it, in any string however deep, shown as `***`: the
    stored log is masked already, but parameters, messages and git facts are not."""
    secrets = list(values)
    if not secrets:
        return doc

    def mask(value: Any) -> Any:
        if isinstance(value, str):
            masker = Masker(secrets)
            raw = value.encode("utf-8", errors="surrogatepass")
            return (masker.feed(raw) + masker.flush()).decode("utf-8", errors="replace")
        if isinstance(value, dict):
            return {mask(k): mask(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mask(v) for v in value]
        return value

    return mask(doc)


def subject(doc: dict[str, Any]) -> str:
    """`[ick] hello #3 failed` (or `started`, or `succeeded (fixed)`, or `action failed`)."""
    if doc["event"] == "approval":
        return (f"[ick] {doc['project']} #{doc['number']} waits for approval to deploy to "
                f"{doc['environment']} (deployment {doc['deployment']['id']})")
    if doc["event"] == "deployment":
        return (f"[ick] {doc['project']} #{doc['number']} deployment to {doc['environment']} "
                f"{doc['state']} (deployment {doc['deployment']['id']})")
    gate = doc.get("gate")
    if doc["event"] == "start":
        what = "started"
    elif doc["event"] == "gate" and isinstance(gate, dict):
        what = (f"gate/{gate['target']}/{gate['name']} {gate['result']}"
                + (f" into {gate['target']}" if gate["result"] == "merged" else ""))
    elif doc["event"] == "action_failed":
        what = "action failed"
    else:
        what = doc["state"]
        if doc.get("change"):
            what += f" ({doc['change']})"
    return f"[ick] {doc['project']} #{doc['number']} {what}"


def failed_line(failed: dict[str, Any]) -> str:
    return (f"pipeline {failed['pipeline']}, action {failed['index'] + 1} ({failed['kind']}, "
            f"where: {failed['where']}): {failed['message'] or failed['state']}")


def chat_lines(doc: dict[str, Any]) -> list[str]:
    """What a chat channel (Matrix, IRC) says: the subject and link, and the failing action.
    Short: a room is read by people, the mail and the build's page have the rest."""
    lines = [f"{subject(doc)}: {doc['url']}"]
    failed = doc.get("failed_action")
    if failed and doc["event"] != "start":
        lines.append(f"Failed action: {failed_line(failed)}")
    return [" ".join(line.split()) for line in lines]  # no newline or tab reaches a line


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _git_line(git: Any) -> str:
    if isinstance(git, dict) and {"url", "ref", "commit"} <= git.keys():
        where = f" in {git['dir']}" if git.get("dir") else ""
        return f"{git['url']} {git['ref']} at {git['commit']}{where}"
    return _value(git)


def body(doc: dict[str, Any]) -> str:
    """The plain-text mail body: outcome, duration, parameters, the failing action, the log."""
    lines = [f"Build: {doc['project']} #{doc['number']} (build {doc['build']})"]
    if doc["event"] in DEPLOYMENT_POINTS:
        deployment = doc["deployment"]
        lines += [f"Environment: {doc['environment']}",
                  f"Deployment: {deployment['id']} ({deployment['reason']}, asked for by "
                  f"{deployment['requested_by']})", f"State: {doc['state']}",
                  f"Link: {doc['url']}"]
        if deployment.get("run") is not None:
            lines.append(f"Its run: build {deployment['run']}")
        return "\n".join(lines) + "\n"
    if doc["event"] == "start":
        lines.append("Outcome: started, still running")
    else:
        change = f" ({doc['change']}; the previous build {doc['previous_state']})" \
            if doc.get("change") and doc.get("previous_state") else ""
        lines.append(f"Outcome: {doc['state']}{change}")
        if doc["duration"] is not None:
            lines.append(f"Duration: {doc['duration']:.1f} s")
    lines.append(f"Link: {doc['url']}")
    gate = doc.get("gate")
    if isinstance(gate, dict):
        lines.append(f"Gate: gate/{gate['target']}/{gate['name']} ({gate['candidate']}) onto "
                     f"{gate['target']} ({gate['base']}): {gate['result'] or 'undecided'}")
    if doc.get("git_commit"):
        lines.append(f"Git commit: {doc['git_commit']}")
    for git in doc.get("git") or []:
        lines.append(f"Git: {_git_line(git)}")
    lines += ["", "Parameters:"]
    lines += [f"  {key}: {_value(value)}" for key, value in doc["parameters"].items()] or ["  none"]
    if doc.get("jobs", 1) > 1 and doc.get("failed_jobs"):
        lines += ["", f"Failed jobs ({len(doc['failed_jobs'])} of {doc['jobs']}): "
                      + "; ".join(j["title"] for j in doc["failed_jobs"])]
    failed = doc.get("failed_action")
    if failed:
        lines += ["", f"Failed action: {failed_line(failed)}"]
    if doc["event"] != "start":
        lines += ["", f"The end of the log (at most {TAIL_LINES} lines):", ""]
        lines += [f"  {line}" for line in doc["log_tail"].splitlines()] or ["  (empty)"]
    return "\n".join(lines) + "\n"
