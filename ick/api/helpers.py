"""What every route module uses: the scope and project check, reading a JSON body, the error
response."""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ick.errors import InputError
from ick.keepers.tokens import check_project, check_unbound
from ick.keys import TOKENS
from ick.storage.tokens import TokenRecord

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def require(request: web.Request, scope: str, project: str | None = None, *,
            checks_projects: bool = False) -> TokenRecord:
    """The request's token, if it has `scope` (else 401 or 403) and may act here. A token
    bound to projects may name `project` only if it is one of them (else 404, as if there
    were no such project); on a route that checks projects itself (`checks_projects`:
    listings, builds) it passes; on any other route (no project's) it gets 403."""
    record = request.app[TOKENS].check(request.headers.get("Authorization"), scope)
    if project is not None:
        check_project(record, project, f"no project {project!r}")
    elif not checks_projects:
        check_unbound(record)
    return record


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
