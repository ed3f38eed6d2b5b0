"""Pipelines kept in the repository (`repository_pipelines:`), read at each build's commit
from a real git repository through the mirror cache: branches carrying different pipelines,
the repository's pipeline before the server's of the same name, a broken file failing the
build at PATH:LINE, and its actions untrusted unless `trust_repository: true`."""

from __future__ import annotations

from pathlib import Path

from ick.daemon import Daemon
from ick.model import Build, BuildState, Project
from ick.scheduler.plan import REFUSED
from tests.gitrepos import Repo, git
from tests.pipelines import checked
from tests.polling import apoll
from tests.services import in_process

MAIN = """\
pipelines:
  - pipeline: build
    actions:
      - shell: echo main
        where: container
"""
FEATURE = """\
pipelines:
  - pipeline: build
    actions:
      - shell: echo feature
        where: container
      - shell: make deploy
        where: host
"""
BROKEN = """\
pipelines:
  - pipeline: build
    actions:
      - shel: echo typo
        where: container
"""


def repository(tmp_path: Path) -> tuple[Repo, dict[str, str]]:
    repo = Repo(tmp_path, "hello")
    commits = {"main": repo.commit("main", {".ick.yaml": MAIN})}
    git("checkout", "-q", "-b", "feature", cwd=repo.work)
    commits["feature"] = repo.commit("feature", {".ick.yaml": FEATURE})
    git("checkout", "-q", "-b", "broken", "main", cwd=repo.work)
    commits["broken"] = repo.commit("broken", {".ick.yaml": BROKEN})
    repo.push("main", "feature", "broken")
    return repo, commits


async def setup(daemon: Daemon, repo: Repo, trust: bool = False) -> None:
    await daemon.resources.put_pipeline(checked("build", [], [{"shell": "echo server",
                                                               "where": "container"}]))
    await daemon.resources.put_pipeline(checked("lint", [], [{"shell": "echo lint",
                                                              "where": "container"}]))
    await daemon.resources.put_project(Project(
        "hello", {"git_url": str(repo.bare)}, ["build", "lint"],
        repository_pipelines=".ick.yaml", trust_repository=trust))


def shells(build: Build) -> list[tuple[str, str, object]]:
    return [(a.pipeline, str(a.spec.get("shell")), a.spec.get(REFUSED)) for a in build.actions]


async def test_each_branch_builds_its_own_pipelines_before_the_server_s(tmp_path: Path) -> None:
    repo, commits = repository(tmp_path)
    async with in_process(tmp_path / "state") as daemon:
        await setup(daemon, repo)
        main = await daemon.controller.trigger(
            "hello", {"git_ref": "refs/heads/main", "git_commit": commits["main"]})
        assert shells(main) == [("build", "echo main", None), ("lint", "echo lint", None)]
        feature = await daemon.controller.trigger("hello", {"git_ref": "refs/heads/feature"})
        assert shells(feature) == [
            ("build", "echo feature", None),
            ("build", "make deploy", "untrusted pipeline of .ick.yaml: rule 'code only where: "
                                     "container, without network': a shell action runs "
                                     "where: host"),
            ("lint", "echo lint", None)]
        # the repository's pipelines are read at the commit, not at the branch's tip now
        old = await daemon.controller.trigger("hello", {"git_commit": commits["main"]})
        assert shells(old)[0] == ("build", "echo main", None)


async def test_trust_repository_lets_its_pipelines_do_what_the_server_s_may(
        tmp_path: Path) -> None:
    repo, commits = repository(tmp_path)
    async with in_process(tmp_path / "state") as daemon:
        await setup(daemon, repo, trust=True)
        feature = await daemon.controller.trigger(
            "hello", {"git_commit": commits["feature"]})
        assert shells(feature)[1] == ("build", "make deploy", None)


async def test_a_broken_file_fails_the_build_at_its_line_before_anything_runs(
        tmp_path: Path) -> None:
    repo, commits = repository(tmp_path)
    async with in_process(tmp_path / "state") as daemon:
        await setup(daemon, repo)
        broken = await daemon.controller.trigger("hello", {"git_commit": commits["broken"]})
        problem = ".ick.yaml:4: action 1 of pipeline 'build': no action type (expected one of"
        [only] = broken.actions
        assert str(only.spec[REFUSED]).startswith(problem)

        # A worker asks for work: the action fails as it is handed out, and the worker gets
        # nothing.
        worker = await daemon.controller.register("w")
        assert await daemon.controller.next_work(worker, 0.5) is None

        async def get() -> Build | None:
            return await daemon.builds.get(broken.id)

        done = await apoll(get, lambda b: b is not None and b.state.finished, 30,
                           lambda b: f"build {broken.id} did not end: {b}")
        assert done is not None and done.state is BuildState.FAILED
        assert str(done.actions[0].message).startswith(problem)
        assert problem in daemon.logs.read(broken.id, 0, 1 << 20).decode()
        missing = await daemon.controller.trigger("hello", {"git_commit": "0" * 40})
        assert missing.actions[0].spec[REFUSED] == (
            f".ick.yaml: {repo.bare} has no commit '{'0' * 40}'")
