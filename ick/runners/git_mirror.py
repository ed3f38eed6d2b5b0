"""`action: git_mirror`: every repository of `sources` ({name, repo, ref, location}),
a few at once, through the mirror cache (ick.runners.gitfetch)."""

from __future__ import annotations

from ick.errors import ActionError
from ick.runners.base import ActionContext, ActionType
from ick.runners.gitfetch import GIT_TOOLS, SECRET_KEYS, Source, check_url, fetch_all
from ick.runners.result import ActionResult
from ick.runners.rules import Rule


class GitMirrorRunner:
    """`action: git_mirror`: every repository in `sources` ({name, repo, ref, location})."""

    async def run(self, ctx: ActionContext) -> ActionResult:
        value = ctx.required("sources")
        if not (isinstance(value, list) and value and all(_is_source(s) for s in value)):
            raise ActionError("sources must be a list of mappings with 'name' and 'repo' and "
                              "optionally 'ref' and 'location' (strings)")
        sources: list[Source] = []
        for item in value:
            url = check_url(item["repo"], f"source {item['name']!r}: repo")
            location = item.get("location") or item["name"]
            if any(s.dir == location for s in sources):
                raise ActionError(f"two sources have location {location!r}")
            sources.append(Source(url, item.get("ref"), None, location,
                                  f"source {item['name']!r}: location", item["name"]))
        return await fetch_all(ctx, ctx.shared.mirror_locks, sources)


def _is_source(item: object) -> bool:
    return (isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"] != ""
            and isinstance(item.get("repo"), str)
            and all(isinstance(v, str) for v in item.values()))


def _is_sources(value: object) -> bool:
    keys = {"name", "repo", "ref", "location"}
    return isinstance(value, list) and all(
        isinstance(item, dict)
        and {"name", "repo"} <= item.keys() <= keys
        and all(isinstance(v, str) for v in item.values())
        for item in value
    )


GIT_MIRROR = ActionType(
    "git_mirror", ("host",), GitMirrorRunner,
    settings={"sources": Rule(_is_sources, "a list of mappings with 'name', 'repo' and "
                                           "optionally 'ref' and 'location' (strings)"),
              **SECRET_KEYS},
    tools=GIT_TOOLS,
)
