"""Property-based fuzzing of .ick files through the parser and `POST /apply`: every file is
either loaded or refused with FILE:LINE problems, never a traceback; what loads, the daemon
applies or refuses with a 400, never a 500."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from ick.errors import IckFileError
from ick.ickfile import IckFile, load_ick_text
from tests.api.test_app_fuzz import NASTY, real_app

EXAMPLES = 400  # fixed, with derandomize: the same cases every run

# A billion laughs: ten aliases of ten aliases of ... of one string.
LAUGHS = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10)
) + "projects: *a9\n"
PIPELINE = """pipelines:
  - pipeline: p
    parameters: [x]
    actions:
      - shell: echo hi
        where: host
projects:
  - project: q
    parameters: {x: 1}
    pipelines: [p]
"""
SPECIAL = [
    LAUGHS,
    "projects: &x [*x]\n",  # an alias of itself
    "<<: *nothing\n",
    "projects:\n\t- project: tab\n",
    "projects:\n  - project: a\n    project: b\n    pipelines: []\n",  # a key given twice
    "projects:\n  - {1: a, null: b, true: c, 1.5: d, project: e}\n",
    "projects:\n  - ? [a, b]\n    : c\n",  # a key that is a list
    "projects:\n  - ? {a: b}\n    : c\n",
    "pipelines:\n  - pipeline: p\n    actions:\n      - shell: x\n        where: host\n"
    f"        timeout: {'9' * 5000}\n",
    f"projects: [{'[' * 5000}{']' * 5000}]\n",
    "projects:\n" + "".join(f"  - project: p{i}\n    pipelines: []\n" for i in range(5000)),
    "projects: !!python/object/apply:os.system [echo pwned]\n",
    "projects: !!binary aGVsbG8=\n",
    "projects: 1e999\n",
    "projects:\n  - project: a\n    parameters: {x: .nan, y: -.inf}\n    pipelines: []\n",
    "\ufeffprojects: []\n", "projects: [\x00]\n", "projects: [\ud800]\n", "%YAML 9.9\n---\n",
    "--- a\n--- b\n", PIPELINE, PIPELINE.replace("p]", "p, p, p]"),
    PIPELINE + "pipelines: []\n",
]


def values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**100), max_value=2**100),
        st.floats(), st.sampled_from(NASTY), st.text(max_size=20),
        st.sampled_from(["host", "chroot", "container", "shell", "git", "archive"]),
    )
    keys = st.one_of(
        st.sampled_from(["project", "pipeline", "pipelines", "projects", "parameters",
                         "actions", "shell", "python", "where", "action", "timeout", "notify",
                         "email", "webhook", "when", "on", "secret", "secrets", "concurrent",
                         "git_url", "globs", "network", "name"]),
        st.text(max_size=8), st.integers(), st.booleans(), st.none(),
    )
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)), max_leaves=25)


def documents() -> st.SearchStrategy[str]:
    """YAML text: documents shaped like .ick files, then now and then broken by hand."""
    action = st.fixed_dictionaries(
        {"shell": st.one_of(st.just("echo hi"), values()),
         "where": st.one_of(st.sampled_from(["host", "container"]), values())},
        optional={"timeout": values(), "secrets": values(), "name": values()})
    pipeline = st.fixed_dictionaries(
        {"pipeline": st.one_of(st.sampled_from(["p", "q", "a/b"]), values()),
         "actions": st.one_of(st.lists(action, max_size=3), values())},
        optional={"parameters": values()})
    project = st.fixed_dictionaries(
        {"project": st.one_of(st.sampled_from(["p", "q", "a/b"]), values()),
         "pipelines": st.one_of(st.lists(st.sampled_from(["p", "q", "a/b"]), max_size=3),
                                values())},
        optional={"parameters": values(), "notify": values(), "concurrent": values()})
    doc = st.fixed_dictionaries({}, optional={
        "pipelines": st.one_of(st.lists(pipeline, max_size=3), values()),
        "projects": st.one_of(st.lists(project, max_size=3), values()),
        "extra": values()})
    text = st.one_of(doc, values()).map(lambda d: yaml.safe_dump(d, allow_unicode=True))

    @st.composite
    def broken(draw: st.DrawFn) -> str:
        base = draw(text)
        how = draw(st.sampled_from(["as is", "tabs", "cut", "twice", "insert"]))
        lines = base.splitlines(keepends=True)
        at = draw(st.integers(min_value=0, max_value=max(0, len(lines) - 1)))
        if how == "tabs":
            return base.replace("  ", "\t")
        if how == "cut":
            return base[: draw(st.integers(min_value=0, max_value=len(base)))]
        if how == "twice" and lines:
            return "".join(lines[: at + 1] + lines[at:])
        if how == "insert":
            return "".join(lines[:at] + [draw(st.sampled_from(SPECIAL))] + lines[at:])
        return base

    return broken()


def load(text: str) -> IckFile | IckFileError:
    """Load `text` or its refusal. How long the worst of these takes is a figure of
    bench/ickfile.py, not a limit here."""
    try:
        return load_ick_text(text, "fuzz.ick")
    except IckFileError as e:
        assert e.problems, "a refusal must say why"
        for problem in e.problems:
            assert problem.startswith("fuzz.ick"), problem
            assert "Traceback" not in problem
        return e


class Results:
    def __init__(self) -> None:
        self.cases = 0
        self.loaded = 0
        self.statuses: dict[int, int] = {}
        self.failures: list[str] = []


def test_ick_files_load_or_are_refused_and_apply_never_500s(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_fuzz(tmp_path, loop))
    finally:
        loop.close()


async def _fuzz(tmp_path: Path, loop: asyncio.AbstractEventLoop) -> None:
    async with real_app(tmp_path) as (app, daemon):
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        try:
            admin = (daemon.settings.state_dir / "admin.token").read_text().strip()
            results = Results()
            await asyncio.to_thread(_run, client, admin, loop, results)
            print(f"fuzzed {results.cases} .ick files: {results.loaded} loaded; "
                  f"POST /apply answered {results.statuses}")
            for failure in results.failures:
                print("fuzz found:", failure)
            assert not results.failures, "\n".join(results.failures[:20])
            assert results.loaded >= 20  # the generator reaches past the parser, to /apply
        finally:
            await client.close()


def _run(client: TestClient[Any, Any], admin: str, loop: asyncio.AbstractEventLoop,
         results: Results) -> None:
    async def apply(ick_file: IckFile) -> int:
        body = {"pipelines": [p.to_doc() for p in ick_file.pipelines],
                "projects": [p.to_doc() for p in ick_file.projects]}
        async with client.post("/apply", json=body,
                               headers={"Authorization": f"Bearer {admin}"}) as resp:
            await resp.read()
            return resp.status

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])  # a failure is shown as found
    @given(documents())
    def one(text: str) -> None:
        results.cases += 1
        try:
            loaded = load(text)
        except Exception as e:  # noted, and the next case runs: the count says what was found
            results.failures.append(f"{type(e).__name__}: {str(e)[:150]}: {text[:100]!r}")
            return
        if isinstance(loaded, IckFile):
            results.loaded += 1
            status = asyncio.run_coroutine_threadsafe(apply(loaded), loop).result(30)
            results.statuses[status] = results.statuses.get(status, 0) + 1
            if status not in (200, 400, 413):
                results.failures.append(f"POST /apply answered {status}: {text[:100]!r}")

    for special in SPECIAL:
        one = example(special)(one)
    one()
