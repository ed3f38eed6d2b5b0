"""`/badges/{project}.svg`: the state of a project's last finished build that was not
cancelled, as a small SVG.

Public only with `public_badges: true`; otherwise it needs a session like any page. An
anonymous request cannot tell a project without a finished build from one that is not there.
"""

from __future__ import annotations

from aiohttp import web

from ick.errors import InputError
from ick.model import BuildState, name_problem
from ick.ui import access, wiring

COLOURS = {
    BuildState.SUCCEEDED: "#2e7d32", BuildState.FAILED: "#c62828",
    BuildState.CANCELLED: "#6d6d6d", BuildState.INTERRUPTED: "#ef6c00",
}
UNKNOWN = "#9e9e9e"


def svg(word: str, colour: str) -> str:
    """A two-part badge, "build | WORD"; the word is one of ours, never a user's text."""
    left, right = 40, 8 + 7 * len(word)
    width = left + right
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="build: {word}"><title>build: {word}</title>'
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="6" y="14">build</text><text x="{left + 4}" y="14">{word}</text></g></svg>'
    )


async def badge(request: web.Request) -> web.StreamResponse:
    """Without a session (public badges), a project with no finished build answers exactly
    as one that does not exist ("unknown"), so that no one can tell which projects exist; a
    session sees "none" for its own projects, and "unknown" for those it may not see."""
    if wiring.settings(request).public_badges:
        session = await access.current_session(request)
    else:
        session = await access.page_session(request, checks_projects=True)
    name = request.match_info["name"]
    problem = name_problem(name)
    if problem:
        raise InputError(problem)
    state, word = None, "unknown"
    visible = session is not None and session.token.binds(name)
    project = await wiring.resources(request).project(name)
    if project is not None and (session is None or visible):
        state = await wiring.overview(request).last_finished(name)
        if state is not None:
            word = state.value
        elif visible:
            word = "none"
    colour = COLOURS.get(state, UNKNOWN) if state is not None else UNKNOWN
    return web.Response(text=svg(word, colour), content_type="image/svg+xml",
                        headers={"Cache-Control": "no-cache"})
