"""`GET /projects/{name}/feed.atom`: a project's finished builds as an Atom feed (RFC 4287),
newest first. It needs `read` (a token bound to other projects gets 404), unless
`public_badges: true` makes it public like the badges.
"""

from __future__ import annotations

from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

from ick.api.helpers import require
from ick.errors import InputError, NotFoundError
from ick.keys import BASE_URL, BUILDS, RESOURCES, SETTINGS
from ick.model import Build, BuildState, name_problem
from ick.timefmt import parse_iso

ENTRIES = 50
EPOCH = "1970-01-01T00:00:00Z"  # a feed's <updated> before it has any entry
UNFINISHED = (BuildState.QUEUED, BuildState.RUNNING)


def _summary(build: Build) -> str:
    """What the build listing knows (it reads no actions): outcome, commit, duration."""
    parts = [f"{build.project} #{build.number} (build {build.id}) {build.state.value}"]
    if build.commit:
        parts.append(f"commit {build.commit}")
    if build.started_at and build.finished_at:
        took = parse_iso(build.finished_at) - parse_iso(build.started_at)
        parts.append(f"took {took.total_seconds():.1f} s")
    return "; ".join(parts)


def _entry(build: Build, base: str) -> str:
    page = f"{base}/ui/builds/{build.id}"
    updated = build.finished_at or build.queued_at
    return (
        "<entry>"
        f"<id>{escape(page)}</id>"
        f"<title>{escape(f'{build.project} #{build.number} {build.state.value}')}</title>"
        f"<updated>{escape(updated)}</updated>"
        f'<link rel="alternate" type="text/html" href={quoteattr(page)}/>'
        f"<summary>{escape(_summary(build))}</summary>"
        "</entry>"
    )


def atom(project: str, builds: list[Build], base: str) -> str:
    """The feed document: `builds` are finished, newest first."""
    page = f"{base}/ui/projects/{quote(project)}"
    updated = max((b.finished_at or b.queued_at for b in builds), default=EPOCH)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{escape(page)}</id>"
        f"<title>{escape(f'ick: {project}')}</title>"
        f"<updated>{escape(updated)}</updated>"
        "<author><name>ick</name></author>"
        "<generator>ick</generator>"
        f'<link rel="alternate" type="text/html" href={quoteattr(page)}/>'
        f'<link rel="self" type="application/atom+xml" '
        f'href={quoteattr(f"{base}/projects/{quote(project)}/feed.atom")}/>'
        + "".join(_entry(b, base) for b in builds)
        + "</feed>\n"
    )


async def feed(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    problem = name_problem(name)
    if problem:
        raise InputError(problem)
    public = request.app[SETTINGS].public_badges and "Authorization" not in request.headers
    if not public:
        require(request, "read", name)
    builds = [b for b in await request.app[BUILDS].list(name, 2 * ENTRIES)
              if b.state not in UNFINISHED][:ENTRIES]
    # Without a token, a project with no finished build answers as one that is not there.
    if not builds and (public or await request.app[RESOURCES].project(name) is None):
        raise NotFoundError(f"no project {name!r}")
    base = request.app[BASE_URL].rstrip("/")
    return web.Response(text=atom(name, builds, base), content_type="application/atom+xml",
                        charset="utf-8", headers={"Cache-Control": "no-cache"})


def add_routes(app: web.Application) -> None:
    # Before resources' routes: /projects/{name:.+} would take this path.
    app.router.add_get(r"/projects/{name:.+}/feed.atom", feed)
