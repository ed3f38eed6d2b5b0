"""`GET /projects/{name}/gate`: a gated project's candidates, queued and recent, each with
its build and result, and the moves of its target ick is pushing now (what the
pre-receive hook of `ick hook PROJECT --gate` lets through)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ick.api.helpers import require
from ick.errors import InputError, NotFoundError
from ick.keys import BUILDS, GATE, RESOURCES
from ick.model import Build, name_problem

RECENT = 50  # candidates' builds shown


def candidate_json(build: Build) -> dict[str, Any]:
    assert build.gate is not None
    return {"build": build.id, "number": build.number, "state": build.state.value,
            "queued_at": build.queued_at, "finished_at": build.finished_at,
            "commit": build.commit, "triggered_by": build.triggered_by,
            **build.gate_facts.to_json()}


async def get_gate(request: web.Request) -> web.Response:
    require(request, "read", request.match_info["name"])
    name = request.match_info["name"]
    problem = name_problem(name)
    if problem:
        raise InputError(problem)
    project = await request.app[RESOURCES].project(name)
    if project is None:
        raise NotFoundError(f"no project {name!r}")
    builds = await request.app[BUILDS].gate_builds(name, limit=RECENT)
    moving = request.app[GATE].moving(name)
    return web.json_response({
        "project": name,
        "target": None if project.gate is None else project.gate["branch"],
        "candidates": [candidate_json(b) for b in builds],
        "moving": [{"ref": m.ref, "old": m.old, "new": m.new} for m in moving],
    })


def add_routes(app: web.Application) -> None:
    app.router.add_get(r"/projects/{name:.+}/gate", get_gate)
