"""The pages that show things: the dashboard, a project, a build, artifacts and workers."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ick.errors import InputError, NotFoundError
from ick.keepers.tokens import has_scope
from ick.keepers.triggers import settable
from ick.model import ActionState, Build, BuildState, Project, name_problem
from ick.storage.artifacts import check_name
from ick.storage.outputs import check_output_path
from ick.storage.tokens import TokenRecord
from ick.ui import access, wiring
from ick.ui.live import job_of, read_tail
from ick.ui.numbers import build_id, whole_number
from ick.ui.templates import render

PAGE = 50  # builds on one page of a project
STATES = [s.value for s in BuildState]


def project_name(request: web.Request) -> str:
    name = request.match_info["name"]
    problem = name_problem(name)
    if problem:
        raise InputError(problem)
    return name


async def dashboard(request: web.Request) -> web.StreamResponse:
    session = await access.page_session(request, checks_projects=True)
    token = session.token
    wanted = request.query.get("q", "").strip()[:100]
    state = request.query.get("state", "")
    if state not in STATES and state not in ("", "never"):
        raise InputError(f"state: expected one of {', '.join(STATES)} or never, got {state!r}")
    overview = wiring.overview(request)
    rows = []
    for name, build in await overview.last_builds():
        if not token.binds(name):
            continue
        if wanted and wanted.lower() not in name.lower():
            continue
        shown_state = build.state.value if build is not None else "never"
        if state and shown_state != state:
            continue
        rows.append({"name": name, "build": build})
    return render(request, "dashboard.html", {
        "rows": rows, "active": [b for b in await overview.active() if token.binds(b.project)],
        "q": wanted, "state": state,
        "states": STATES, "filtered": bool(wanted or state),
    })


def parameter_fields(project: Project, required: list[str],
                     token: TokenRecord | None = None) -> list[dict[str, Any]]:
    """One field a parameter: the project's own, then those its pipelines need beside; with
    `token`, only those it may set (a trigger token: its trigger_parameters, see
    keepers/triggers.py)."""
    fields = [{"name": key, "value": value, "json": not isinstance(value, str)}
              for key, value in project.parameters.items()]
    fields += [{"name": key, "value": "", "json": False}
               for key in dict.fromkeys(required) if key not in project.parameters]
    allowed = None if token is None else settable(token, project)
    return [f for f in fields if allowed is None or f["name"] in allowed]


GATE_SHOWN = 20  # gate candidates the project's page lists


async def project_page(request: web.Request) -> web.StreamResponse:
    session = await access.page_session(request, project=request.match_info["name"])
    name = project_name(request)
    resources = wiring.resources(request)
    project = await resources.project(name)
    if project is None:
        raise NotFoundError(f"no project {name!r}")
    pipelines = [(p.name, await resources.pipeline(p.name))
                 for p in project.pipeline_entries()]
    required = [key for _, pipeline in pipelines if pipeline for key in pipeline.parameters]
    before = whole_number(request, "before", 0) or None
    overview = wiring.overview(request)
    builds = await overview.page(name, before, PAGE + 1)
    older = builds[PAGE - 1].number if len(builds) > PAGE else None
    # The gate's queue: candidates waiting, being tested or being decided, and the last few.
    gate = [] if project.gate is None else \
        await wiring.builds(request).gate_builds(name, limit=GATE_SHOWN)
    return render(request, "project.html", {
        "gate": gate,
        "project": project, "pipelines": pipelines, "builds": builds[:PAGE], "older": older,
        "paged": before is not None, "count": await overview.count(name),
        "fields": parameter_fields(project, required, session.token),
        "can_trigger": has_scope(session.token, "trigger"),
        "environments": await wiring.deployments(request).environments(name),
    })


def log_links(build: Build, shown: int | None) -> list[str | None]:
    """For each action, a link to its header in the log (`#log-N`, N its place in its job's
    log), on this page or on its job's; None for one that has not run."""
    links: list[str | None] = []
    matrix = len(build.jobs) > 1
    for seq, action in enumerate(build.actions):
        if action.state in (ActionState.PENDING, ActionState.SKIPPED):
            links.append(None)
            continue
        position = build.job_seqs(action.job).index(seq) + 1
        page = f"/ui/builds/{build.id}?job={action.job}" if matrix and shown != action.job \
            else ""
        links.append(f"{page}#log-{position}")
    return links


async def build_page(request: web.Request) -> web.StreamResponse:
    session = await access.page_session(request, checks_projects=True)
    number = build_id(request)
    build = await wiring.builds(request).get(number)
    if build is None:
        raise NotFoundError(f"no build {number}")
    access.check_build(session, build)
    live = not build.state.finished
    job = job_of(request, build)
    # A deleted project's build stays until the next prune; it cannot be built again.
    project_gone = await wiring.resources(request).project(build.project) is None
    return render(request, "build.html", {
        "build": build, "live": live, "job": job,
        "job_query": "" if job is None else f"job={job}",
        "tail": read_tail(wiring.logs(request), number, live, job),
        "notifications": await wiring.notifications(request).for_build(number),
        "can_cancel": live and has_scope(session.token, "write"),
        "can_rebuild": not live and not project_gone and has_scope(session.token, "trigger"),
        "project_gone": project_gone,
        "log_links": log_links(build, job),
        "outputs": await wiring.outputs(request).list(number),
    })


async def artifacts_page(request: web.Request) -> web.StreamResponse:
    await access.page_session(request)
    return render(request, "artifacts.html", {"artifacts": await wiring.artifacts(request).list()})


async def artifact_download(request: web.Request) -> web.StreamResponse:
    await access.page_session(request)
    name = check_name(request.match_info["name"])
    store = wiring.artifacts(request)
    artifact = await store.get(name)
    if artifact is None:
        raise NotFoundError(f"no artifact {name!r}")
    filename = "".join(c if c.isalnum() or c in "._-" else "_" for c in name.rsplit("/", 1)[-1])
    return web.FileResponse(store.blob_path(artifact.digest), headers={
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f'attachment; filename="{filename}"',
    })


async def output_download(request: web.Request) -> web.StreamResponse:
    """One of a build's outputs, for a session that may see the build (?job=N: that job's)."""
    session = await access.page_session(request, checks_projects=True)
    number = build_id(request)
    build = await wiring.builds(request).get(number)
    if build is None:
        raise NotFoundError(f"no build {number}")
    access.check_build(session, build)
    path = check_output_path(request.match_info["path"])
    job = whole_number(request, "job", 0) if request.query.get("job") else None
    store = wiring.outputs(request)
    output = await store.get(number, path, job)
    if output is None or not store.blob_path(output).is_file():
        raise NotFoundError(f"build {number} has no output {path!r}")
    filename = "".join(c if c.isalnum() or c in "._-" else "_" for c in path.rsplit("/", 1)[-1])
    return web.FileResponse(store.blob_path(output), headers={
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f'attachment; filename="{filename}"',
    })


async def workers_page(request: web.Request) -> web.StreamResponse:
    await access.page_session(request)
    return render(request, "workers.html", {"workers": wiring.workers(request)})
