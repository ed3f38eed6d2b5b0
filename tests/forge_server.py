"""A loopback server that takes commit statuses exactly as the forges document them, and
refuses anything else (recording both):

    Forgejo, Gitea  POST /api/v1/repos/{owner}/{repo}/statuses/{sha}
                    Authorization: token T; JSON state (pending, success, error, failure,
                    warning), target_url, description, context
    GitHub          POST /repos/{owner}/{repo}/statuses/{sha}
                    Authorization: Bearer T, Accept: application/vnd.github+json;
                    JSON state (error, failure, pending, success), target_url, description,
                    context
    GitLab          POST /api/v4/projects/{id}/statuses/{sha} (a path URL-encoded)
                    PRIVATE-TOKEN: T; state (pending, running, success, failed, canceled),
                    name, target_url, description

(Forgejo's and Gitea's swagger "CreateStatusOption", GitHub's REST "Create a commit status",
GitLab's "Commits API: Set the pipeline status of a commit".)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from tests.notify_servers import _Collector, _LoopThread

SHA = "[0-9a-f]{7,64}"
ROUTES = (
    ("forgejo", re.compile(rf"/api/v1/repos/([^/]+/[^/]+)/statuses/({SHA})")),
    ("gitlab", re.compile(rf"/api/v4/projects/([^/]+)/statuses/({SHA})")),
    ("github", re.compile(rf"/repos/([^/]+/[^/]+)/statuses/({SHA})")),
)
STATES = {
    "forgejo": {"pending", "success", "error", "failure", "warning"},
    "github": {"error", "failure", "pending", "success"},
    "gitlab": {"pending", "running", "success", "failed", "canceled"},
}
FIELDS = {
    "forgejo": {"state", "target_url", "description", "context"},
    "github": {"state", "target_url", "description", "context"},
    "gitlab": {"state", "name", "target_url", "description", "ref", "coverage",
               "pipeline_id"},
}


@dataclass
class Received:
    """One request: which forge's route it took (None: none), the repository (decoded) and
    sha, its JSON, and the answer given (201, or the refusal's status and why)."""

    forge: str | None
    repository: str
    sha: str
    body: Any
    status: int
    why: str = ""


class StatusServer(_LoopThread, _Collector):
    """The forges' status routes on one loopback port, for one token."""

    def __init__(self, token: str) -> None:
        _LoopThread.__init__(self)
        _Collector.__init__(self)
        self.token = token
        self.runner: web.AppRunner | None = None
        self.url = self.call(self._start())

    def _auth_problem(self, forge: str, headers: Any) -> str | None:
        if forge == "forgejo" and headers.get("Authorization") != f"token {self.token}":
            return "Authorization is not 'token T'"
        if forge == "github":
            if headers.get("Authorization") != f"Bearer {self.token}":
                return "Authorization is not 'Bearer T'"
            if headers.get("Accept") != "application/vnd.github+json":
                return "Accept is not application/vnd.github+json"
        if forge == "gitlab" and headers.get("PRIVATE-TOKEN") != self.token:
            return "PRIVATE-TOKEN is not T"
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        raw = request.raw_path.split("?")[0]
        body = await request.read()
        found = next(((forge, m) for forge, route in ROUTES
                      if (m := route.fullmatch(raw)) is not None), None)
        if found is None or request.method != "POST":
            return self._refuse(None, "", "", body, 404, f"no route {request.method} {raw}")
        forge, match = found
        repository, sha = unquote(match[1]), match[2]
        problem = self._auth_problem(forge, request.headers)
        if problem is not None:
            return self._refuse(forge, repository, sha, body, 401, problem)
        try:
            doc = json.loads(body)
        except ValueError:
            return self._refuse(forge, repository, sha, body, 400, "not JSON")
        if not isinstance(doc, dict) or doc.get("state") not in STATES[forge] \
                or set(doc) - FIELDS[forge]:
            return self._refuse(forge, repository, sha, doc, 422, "bad state or fields")
        self.add(Received(forge, repository, sha, doc, 201))
        return web.json_response({"id": len(self.items), **doc}, status=201)

    def _refuse(self, forge: str | None, repository: str, sha: str, body: Any, status: int,
                why: str) -> web.Response:
        self.add(Received(forge, repository, sha, body, status, why))
        return web.json_response({"message": why}, status=status)

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    def close(self) -> None:
        if self.runner is not None:
            self.call(self.runner.cleanup())
        _LoopThread.close(self)

    def of(self, sha: str) -> list[Received]:
        with self.cond:
            return [r for r in self.items if r.sha == sha]

    def wait_states(self, sha: str, states: list[str], timeout: float = 30) -> list[Received]:
        """Wait until the statuses accepted for `sha` are `states`, in order, but for a
        `pending` whose build had ended by the time it was to go: the outbox never sends a
        status older than one it holds (it would undo it), so that one may be missing."""
        def accepted(items: list[Received]) -> list[str]:
            return [r.body["state"] for r in items if r.sha == sha and r.status == 201]

        self.wait(lambda items: _matches(accepted(items), states),
                  f"statuses {states} of {sha[:12]}", timeout)
        return [r for r in self.of(sha) if r.status == 201]


def _matches(got: list[str], want: list[str]) -> bool:
    """Is `got` `want` with none, some or all of its `pending` states left out?"""
    at = 0
    for state in want:
        if at < len(got) and got[at] == state:
            at += 1
        elif state != "pending":
            return False
    return at == len(got)
