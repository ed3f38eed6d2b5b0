"""The aiohttp application: shared services, the error middleware, scope checks."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

import ick
from ick.api.auth import TokenKeeper
from ick.config import Settings
from ick.errors import IckError, InputError
from ick.scheduler.driver import Controller
from ick.storage.builds import BuildStore
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from ick.storage.tokens import TokenRecord

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a route handler may use; built once by the daemon."""

    settings: Settings
    resources: ResourceStore
    builds: BuildStore
    logs: LogStore
    controller: Controller
    tokens: TokenKeeper
    extra: dict[str, Any] = field(default_factory=dict)


SERVICES = web.AppKey("services", Services)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def services(request: web.Request) -> Services:
    return request.app[SERVICES]


def require(request: web.Request, scope: str) -> TokenRecord:
    """The request's token, if it has `scope`; else 401 or 403."""
    return services(request).tokens.check(request.headers.get("Authorization"), scope)


def _finite(text: str) -> float:
    """A JSON number as a float; NaN, Infinity and 1e999 are not JSON, nor could we answer them."""
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"request body is not valid JSON: {text} is not a finite number")
    return value


async def json_body(request: web.Request) -> Any:
    if not request.body_exists:
        return None
    try:
        text = await request.text()
        if not text.strip():
            return None
        return json.loads(text, parse_float=_finite, parse_constant=_finite)
    except (UnicodeDecodeError, LookupError, json.JSONDecodeError) as e:
        raise InputError(f"request body is not valid JSON: {e}") from None
    # Valid JSON that Python will not read: a number of thousands of digits, deep nesting.
    except ValueError:
        raise InputError("request body is not valid JSON: a number has too many digits") from None
    except RecursionError:
        raise InputError("request body is not valid JSON: nested too deeply") from None


def error_response(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except IckError as e:
        if e.status >= 500:
            log.error("internal error on %s %s: %s", request.method, request.path, e.message)
        return error_response(e.status, e.message)
    except web.HTTPException as e:
        if e.status >= 400 and e.content_type != "application/json":
            return error_response(e.status, e.reason.lower())
        raise


async def version(request: web.Request) -> web.Response:
    return web.json_response({"name": "ick", "version": ick.__version__})


def make_app(svc: Services) -> web.Application:
    from ick.api import artifacts, builds, prune, resources, secrets, tokens, work

    app = web.Application(middlewares=[errors_middleware])
    app[SERVICES] = svc
    app.router.add_get("/version", version)
    secrets.add_routes(app)  # before resources: /projects/{name:.+} would take its paths
    resources.add_routes(app)
    builds.add_routes(app)
    artifacts.add_routes(app)
    tokens.add_routes(app)
    work.add_routes(app)
    prune.add_routes(app)
    for extend in svc.extra.get("route_adders", []):
        extend(app)
    return app
