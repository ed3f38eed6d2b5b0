"""The work protocol over HTTP (worker scope), and the list of workers (read scope).

    POST   /work                                 register: {name, labels, slots}
    GET    /work?worker=ID&timeout=S             long-poll for the next action (204: none)
    DELETE /work?worker=ID                       deregister
    POST   /work/{build}/{seq}/output?worker=ID  output bytes of the running action
    POST   /work/{build}/{seq}/done?worker=ID    the action's outcome; answers {"more": bool}
                                    (&next=1: and {"work": item} if its next action is ready)
    POST   /work/{build}/{seq}/hand-back?worker=ID  give the action back (the worker stops)
    GET    /work/{build}/{seq}/cancel?worker=ID  long-poll: {"cancel": true} when to stop
    GET    /work/{build}/{seq}/secrets/{name}?worker=ID     a secret the action names
    GET    /work/{build}/{seq}/artifacts/{name}?worker=ID   an artifact the action reads
    PUT    /work/{build}/{seq}/artifacts/{name}?worker=ID   the artifact the action stores
    PUT    /work/{build}/{seq}/outputs/{path}?worker=ID     a file its `outputs:` names
    GET    /work/{build}/{seq}/deployed?worker=ID   a deployment's run: the deployed build's
                                    outputs (JSON), then each: .../deployed/{job}/{path}
    GET    /workers                              every worker (read scope)

A worker id belongs to the token that registered it; local workers belong to no token.
Every call renews the worker's lease. Local workers call the same controller methods
in-process.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ick.api.artifacts import DIGEST_HEADER, READ_SIZE, arch_of
from ick.api.helpers import json_body, require
from ick.errors import ActionError, ForbiddenError, InputError, NotFoundError
from ick.keepers.secrets import environment_of
from ick.keys import ARTIFACTS, BUILDS, CONTROLLER, OUTPUTS, SECRETS
from ick.model import ACTION_FIELDS
from ick.runners.registry import action_type
from ick.scheduler.machine import Outcome, RunningAction
from ick.scheduler.routing import label_problem
from ick.scheduler.work import WorkItem, outcome_from_json
from ick.storage.artifacts import check_name
from ick.storage.outputs import check_output_path
from ick.storage.secrets import check_secret_name
from ick.worker.deployed import DEPLOY_BUILD
from ick.worker.outputs import named_by
from ick.worker.secretfiles import secret_names

MAX_POLL = 60.0
MAX_SLOTS = 256
MAX_LABELS = 64


def _worker(request: web.Request) -> str:
    """The worker this request speaks for: it must be the token's own (403 otherwise). Called
    after the request's own checks, which only look (a bad request is 400 whoever sends it)."""
    record = require(request, "worker")
    worker = request.query.get("worker")
    if not worker:
        raise InputError("missing ?worker=ID (register at POST /work first)")
    request.app[CONTROLLER].check_worker(worker, record.key_id)
    return worker


def _ints(request: web.Request) -> tuple[int, int]:
    texts = request.match_info["build"], request.match_info["seq"]
    if not all(t.isascii() and t.isdigit() and len(t) <= 18 for t in texts):
        raise InputError("build and seq must be numbers")
    return int(texts[0]), int(texts[1])


def _running(request: web.Request) -> RunningAction:
    """The action the request's worker runs now; 403 if it does not run that action."""
    require(request, "worker")
    build_id, seq = _ints(request)
    worker = _worker(request)
    run = request.app[CONTROLLER].running_action(build_id, seq)
    if run is None or run.worker != worker:
        raise ForbiddenError(f"worker {worker!r} is not running action {seq} of build {build_id}")
    return run


def _labels(value: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict) or len(value) > MAX_LABELS:
        raise InputError(f"labels: expected a mapping of at most {MAX_LABELS} labels to lists "
                         "of values")
    labels: dict[str, tuple[str, ...]] = {}
    for key, values in value.items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not values or len(values) > MAX_LABELS:
            raise InputError(f"labels: {key!r}: expected a value or a list of values")
        for item in values:
            problem = label_problem(key, item) if isinstance(item, str) else "not a string"
            if problem:
                raise InputError(f"labels: {problem}")
        labels[key] = tuple(dict.fromkeys(values))
    return labels


# A remote worker's own key, from its state directory: a restart under it replaces the old
# registration (see Controller.register).
INSTANCE_RE = re.compile(r"[0-9a-f]{16,64}")


async def register(request: web.Request) -> web.Response:
    record = require(request, "worker")
    body = await json_body(request) or {}
    if not isinstance(body, dict):
        raise InputError("expected a JSON object: {\"name\": ..., \"labels\": ..., \"slots\": N}")
    name = body.get("name", "worker")
    # printable: the name goes into log lines and, as part of the worker id, into the database
    if not isinstance(name, str) or not name or len(name) > 100 or not name.isprintable():
        raise InputError("name: expected a string of 1 to 100 printable characters")
    slots = body.get("slots", 1)
    if not isinstance(slots, int) or isinstance(slots, bool) or not 1 <= slots <= MAX_SLOTS:
        raise InputError(f"slots: expected a whole number from 1 to {MAX_SLOTS}")
    labels = _labels(body.get("labels", {}))
    instance = body.get("instance")
    if instance is not None and not (isinstance(instance, str) and INSTANCE_RE.fullmatch(instance)):
        raise InputError("instance: expected 16 to 64 hexadecimal digits")
    controller = request.app[CONTROLLER]
    worker = await controller.register(name, labels, slots, token=record.key_id,
                                       instance=instance)
    return web.json_response({"worker": worker, "lease": controller.lease}, status=201)


async def deregister(request: web.Request) -> web.Response:
    worker = _worker(request)
    await request.app[CONTROLLER].deregister(worker)
    return web.json_response({"deregistered": worker})


def _timeout(request: web.Request, default: float) -> float:
    try:
        timeout = min(float(request.query.get("timeout", default)), MAX_POLL)
    except ValueError:
        timeout = math.nan
    if not 0 <= timeout <= MAX_POLL:  # NaN too: a NaN wait never ends
        raise InputError("timeout: expected a number of seconds")
    return timeout


async def next_work(request: web.Request) -> web.Response:
    require(request, "worker")
    timeout = _timeout(request, 30.0)
    worker = _worker(request)
    controller = request.app[CONTROLLER]
    item = await controller.next_work(worker, timeout, _connected(request))
    if item is None:
        return web.Response(status=204)
    return await _send(request, worker, item.to_json(), item)


def _connected(request: web.Request) -> Callable[[], bool]:
    """Is the request's connection still open (its worker alive)?"""
    def connected() -> bool:
        transport = request.transport
        return transport is not None and not transport.is_closing()
    return connected


async def _send(request: web.Request, worker: str, doc: dict[str, Any],
                item: WorkItem | None) -> web.Response:
    """Answer `doc`, which hands `item` to the worker: sent here, not after the handler
    returns, so an action that cannot be sent is known and goes back to the queue at once
    rather than wait out the worker's lease."""
    response = web.json_response(doc)
    if item is None:
        return response
    try:
        await response.prepare(request)
        await response.write_eof()
    except ConnectionError:
        await request.app[CONTROLLER].undelivered(worker, item)
    return response


async def output(request: web.Request) -> web.Response:
    require(request, "worker")
    build_id, seq = _ints(request)
    worker = _worker(request)
    data = await request.read()
    request.app[CONTROLLER].output(worker, build_id, seq, data)
    return web.json_response({"ok": True})


MAX_DURATION = 10 * 365.25 * 86400  # seconds: ten years


def _outcome(body: object) -> Outcome:
    if not isinstance(body, dict):
        raise InputError("expected a JSON object with the action's outcome")
    try:
        outcome: Outcome | None = outcome_from_json(body)
    except (TypeError, ValueError, OverflowError):
        outcome = None
    # An exit code SQLite can store; a duration a log line can show (no action runs ten years).
    if (outcome is None or not -(2**31) <= (outcome.exit_code or 0) < 2**31
            or not 0 <= outcome.duration <= MAX_DURATION):
        raise InputError(
            "outcome: expected a whole number or null as exit_code and seconds as duration"
        )
    clash = sorted(ACTION_FIELDS.intersection(outcome.details))
    if clash:
        raise InputError(f"details: {clash[0]!r} is one of the action's own fields, which a "
                         "worker's details cannot set")
    return outcome


async def done(request: web.Request) -> web.Response:
    require(request, "worker")
    build_id, seq = _ints(request)
    outcome = _outcome(await json_body(request))
    worker = _worker(request)
    controller = request.app[CONTROLLER]
    wants_next = request.query.get("next") == "1"
    more = await controller.done(worker, build_id, seq, outcome, ready=wants_next)
    if not wants_next:
        return web.json_response({"more": more})
    # The worker's slot is free, or its job's next action waits: what it would poll for
    # next comes in this answer, one round trip fewer per action. Without one at once, the
    # worker polls as it would have.
    item = await controller.next_work(worker, 0.0, _connected(request))
    doc: dict[str, Any] = {"more": more}
    if item is not None:
        doc["work"] = item.to_json()
    return await _send(request, worker, doc, item)


async def hand_back(request: web.Request) -> web.Response:
    require(request, "worker")
    build_id, seq = _ints(request)
    worker = _worker(request)
    await request.app[CONTROLLER].hand_back(worker, build_id, seq)
    return web.json_response({"handed_back": True})


async def wait_cancel(request: web.Request) -> web.Response:
    require(request, "worker")
    build_id, seq = _ints(request)
    timeout = _timeout(request, MAX_POLL)
    worker = _worker(request)
    # Only the worker that runs the action may wait on it: another's would learn when
    # builds it does not run are cancelled. An action that runs no more answers "stop", as
    # its own worker needs; that says nothing more than that it ended.
    run = request.app[CONTROLLER].running_action(build_id, seq)
    if run is not None and run.worker != worker:
        raise ForbiddenError(f"worker {worker!r} is not running action {seq} of build {build_id}")
    cancel = await request.app[CONTROLLER].wait_cancel_for(worker, build_id, timeout, seq)
    return web.json_response({"cancel": cancel})


async def worker_secret(request: web.Request) -> web.Response:
    run = _running(request)
    name = request.match_info["secret"]
    check_secret_name(name)
    try:
        named = secret_names(run.kind, run.spec, run.parameters)
    except ActionError as e:
        raise InputError(e.message) from None
    if name not in named:
        raise ForbiddenError(
            f"action {run.seq} of build {run.build_id} does not name secret {name!r}")
    build = await request.app[BUILDS].get(run.build_id)
    value = request.app[SECRETS].value_for(run.project, name,
                                           None if build is None else environment_of(build))
    if value is None:
        raise NotFoundError(f"project {run.project!r} has no secret {name!r}")
    return web.Response(body=value, content_type="application/octet-stream")


def _artifact_of(run: RunningAction, writes: bool, name: str) -> None:
    """Refuse an artifact the action's type does not read (or write) by its settings."""
    record = action_type(run.kind)
    keys = () if record is None else record.writes if writes else record.reads
    if record is None or name not in record.artifact_names(keys, run.spec, run.parameters):
        raise ForbiddenError(
            f"action {run.seq} of build {run.build_id} does not name artifact {name!r}")


async def get_artifact(request: web.Request) -> web.StreamResponse:
    run = _running(request)
    name = check_name(request.match_info["name"])
    _artifact_of(run, False, name)
    store = request.app[ARTIFACTS]
    artifact = await store.get(name)
    if artifact is None:
        raise NotFoundError(f"no artifact {name!r}")
    return web.FileResponse(store.blob_path(artifact.digest), chunk_size=READ_SIZE, headers={
        DIGEST_HEADER: artifact.digest, "Content-Type": "application/octet-stream"})


async def put_artifact(request: web.Request) -> web.Response:
    run = _running(request)
    name = check_name(request.match_info["name"])
    _artifact_of(run, True, name)
    digest = request.headers.get(DIGEST_HEADER)
    if not digest:
        raise InputError(f"a worker's upload must carry its {DIGEST_HEADER} header")
    arch = arch_of(request)
    chunks = request.content.iter_chunked(READ_SIZE)
    artifact, created = await request.app[ARTIFACTS].put(name, chunks, digest, arch)
    return web.json_response(artifact.to_json(), status=201 if created else 200,
                             headers={DIGEST_HEADER: artifact.digest})


async def put_output(request: web.Request) -> web.Response:
    """An output of the action the worker runs: a path its `outputs:` globs name, with the
    digest the worker computed; the build's cap (`max_outputs_mb`) holds here too."""
    run = _running(request)
    path = check_output_path(request.match_info["path"])
    patterns = run.spec.get("outputs")
    if not isinstance(patterns, list) or not named_by([str(p) for p in patterns], path):
        raise ForbiddenError(
            f"action {run.seq} of build {run.build_id} does not name output {path!r}")
    digest = request.headers.get(DIGEST_HEADER)
    if not digest:
        raise InputError(f"a worker's upload must carry its {DIGEST_HEADER} header")
    chunks = request.content.iter_chunked(READ_SIZE)
    output = await request.app[OUTPUTS].put(run.build_id, run.job, path, chunks, digest)
    return web.json_response(output.to_json(), status=201,
                             headers={DIGEST_HEADER: output.digest})


async def _deployed(request: web.Request) -> int:
    """The build whose outputs the worker's action may read: the one its build, a
    deployment's run (event deploy, made by ick alone), ships; 403 for any other build."""
    run = _running(request)
    build = await request.app[BUILDS].get(run.build_id)
    shipped = None if build is None else build.parameters.get(DEPLOY_BUILD)
    if build is None or build.event != "deploy" or not isinstance(shipped, int):
        raise ForbiddenError(f"build {run.build_id} is not a deployment's run")
    return shipped


async def deployed_list(request: web.Request) -> web.Response:
    shipped = await _deployed(request)
    return web.json_response([o.to_json() for o in await request.app[OUTPUTS].list(shipped)])


async def deployed_output(request: web.Request) -> web.StreamResponse:
    shipped = await _deployed(request)
    path = check_output_path(request.match_info["path"])
    try:
        job = int(request.match_info["job"])
    except ValueError:
        raise InputError("bad job: expected a number") from None
    store = request.app[OUTPUTS]
    output = await store.get(shipped, path, job)
    if output is None:
        raise NotFoundError(f"build {shipped} has no output {path!r} of job {job}")
    return web.FileResponse(store.blob_path(output), chunk_size=READ_SIZE, headers={
        DIGEST_HEADER: output.digest, "Content-Type": "application/octet-stream"})


async def list_workers(request: web.Request) -> web.Response:
    require(request, "read")
    return web.json_response([view.to_json() for view in request.app[CONTROLLER].workers()])


def add_routes(app: web.Application) -> None:
    r = app.router
    action = r"/work/{build}/{seq}"
    r.add_get("/workers", list_workers)
    r.add_post("/work", register)
    r.add_get("/work", next_work)
    r.add_delete("/work", deregister)
    r.add_post(f"{action}/output", output)
    r.add_post(f"{action}/done", done)
    r.add_post(f"{action}/hand-back", hand_back)
    r.add_get(f"{action}/cancel", wait_cancel)
    r.add_get(f"{action}/secrets/{{secret}}", worker_secret)
    r.add_get(f"{action}/artifacts/{{name:.+}}", get_artifact)
    r.add_put(f"{action}/artifacts/{{name:.+}}", put_artifact)
    r.add_put(f"{action}/outputs/{{path:.+}}", put_output)
    r.add_get(f"{action}/deployed", deployed_list)
    r.add_get(f"{action}/deployed/{{job}}/{{path:.+}}", deployed_output)
