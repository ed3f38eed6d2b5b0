"""Schedules on a fake clock, polls of a real git repository, downstream builds and rebuilds,
all against the real controller and a real SQLite file."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ick.daemon import Daemon
from ick.errors import InputError, NotFoundError
from ick.model import BuildState, Project
from ick.storage.timers import TimerStore
from ick.upkeep.downstream import Downstream, upstream_of
from ick.upkeep.timers import Polls, Schedules
from tests.gitrepos import Repo
from tests.pipelines import checked

UTC = ZoneInfo("UTC")


class FakeClock:
    """Time moves only when a test moves it (or a sleep passes it)."""

    def __init__(self, start: datetime) -> None:
        self.at = start
        self.mono = 1000.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)
        self.mono += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)


@pytest.fixture
async def svc(services: Daemon) -> Daemon:
    await services.resources.put_pipeline(
        checked("p", [], [{"shell": "true", "where": "host"}]))
    return services


async def test_a_schedule_builds_once_per_slot_and_once_for_all_missed_ones(
        svc: Daemon) -> None:
    await svc.resources.put_project(Project("nightly", pipelines=["p"], schedule="0 3 * * *"))
    clock = FakeClock(datetime(2026, 5, 5, 12, 0, tzinfo=UTC))
    store = TimerStore(svc.db)
    schedules = Schedules(svc.resources, store, svc.controller.trigger, clock)
    assert await schedules.check() == []  # applied at noon: nothing yet
    await schedules.wait()
    assert clock.slept == [30.01]  # it looks again within RECHECK seconds
    clock.at = datetime(2026, 5, 6, 2, 59, 50, tzinfo=UTC)
    assert await schedules.check() == []
    await schedules.wait()
    assert clock.slept[-1] == pytest.approx(10.01)  # until 03:00, not a full RECHECK
    [build] = await schedules.check()
    assert (build.project, build.parameters["ick_trigger"]) == ("nightly", "schedule")
    assert await schedules.check() == []  # the same slot again: nothing

    # a daemon down for three days, started again with a new Schedules: one build
    clock.at = datetime(2026, 5, 9, 8, 0, tzinfo=UTC)
    restarted = Schedules(svc.resources, store, svc.controller.trigger, clock)
    assert len(await restarted.check()) == 1
    assert await restarted.check() == []
    assert [b.parameters["ick_trigger"] for b in await svc.builds.list("nightly")] == [
        "schedule", "schedule"]


async def test_changing_a_schedule_starts_it_afresh(svc: Daemon) -> None:
    await svc.resources.put_project(Project("n", pipelines=["p"], schedule="0 3 * * *"))
    clock = FakeClock(datetime(2026, 5, 5, 12, 0, tzinfo=UTC))
    schedules = Schedules(svc.resources, TimerStore(svc.db), svc.controller.trigger,
                          clock)
    await schedules.check()
    await svc.resources.put_project(Project("n", pipelines=["p"], schedule="0 4 * * *"))
    clock.at = datetime(2026, 5, 6, 3, 30, tzinfo=UTC)
    assert await schedules.check() == []  # 03:00 was the old schedule's
    clock.at = datetime(2026, 5, 6, 4, 0, 1, tzinfo=UTC)
    assert len(await schedules.check()) == 1


async def test_a_poll_builds_when_the_commit_changes(svc: Daemon, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "git", "polled")
    first = repo.commit("one")
    repo.push()
    await svc.resources.put_project(Project(
        "polled", {"git_url": str(repo.bare)}, ["p"], poll=60))
    clock = FakeClock(datetime(2026, 5, 5, 12, 0, tzinfo=UTC))
    store = TimerStore(svc.db)
    git_root = svc.settings.state_dir / "git"
    polls = Polls(svc.resources, store, svc.controller.trigger, clock, git_root)
    [build] = await polls.check_due()  # at start: the commit is new to ick
    assert build.parameters["git_commit"] == first
    assert build.parameters["ick_trigger"] == "poll"
    assert list(git_root.glob("*.git")), "polling goes through the mirror cache"
    clock.advance(61)
    assert await polls.check_due() == []  # polled again, nothing new
    second = repo.commit("two")
    repo.push()
    clock.advance(30)
    assert await polls.check_due() == []  # not due yet
    await polls.wait()
    assert clock.slept == [pytest.approx(30.01)]
    [build] = await polls.check_due()
    assert build.parameters["git_commit"] == second
    # a restart (a new Polls) checks at once, and what was built stays built
    again = Polls(svc.resources, store, svc.controller.trigger, clock, git_root)
    assert await again.check_due() == []
    third = repo.commit("three")
    repo.push()
    restarted = Polls(svc.resources, store, svc.controller.trigger, clock, git_root)
    [build] = await restarted.check_due()
    assert build.parameters["git_commit"] == third


async def test_a_poll_follows_git_ref(svc: Daemon, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "git", "branches")
    repo.commit("main")
    repo.push()
    dev = repo.commit("dev")
    repo.push("main:dev")
    await svc.resources.put_project(Project(
        "b", {"git_url": str(repo.bare), "git_ref": "dev"}, ["p"], poll=60))
    polls = Polls(svc.resources, TimerStore(svc.db), svc.controller.trigger,
                  FakeClock(datetime(2026, 1, 1, tzinfo=UTC)), svc.settings.state_dir / "git")
    [build] = await polls.check_due()
    assert build.parameters["git_commit"] == dev


async def test_a_succeeded_build_triggers_its_downstream_projects(svc: Daemon) -> None:
    for name, triggers in (("systree", ["hello", "other", "gone"]), ("hello", ["systree"]),
                           ("other", [])):
        await svc.resources.put_project(Project(name, pipelines=["p"], triggers=triggers))
    downstream = Downstream(svc.resources, svc.builds)
    trigger = svc.controller.trigger
    up = await trigger("systree", {})
    up = replace(up, state=BuildState.SUCCEEDED)
    queued = await downstream.handle(up, trigger)
    assert [(b.project, b.parameters["ick_trigger"]) for b in queued] == [
        ("hello", f"systree#{up.number}"), ("other", f"systree#{up.number}")]
    assert upstream_of(queued[0]) == ("systree", up.number)
    # hello's success would trigger systree again: a loop, so it does not
    assert await downstream.handle(queued[0], trigger) == []
    failed = await trigger("systree", {})
    failed = replace(failed, state=BuildState.FAILED)
    downstream.build_finished(failed)
    assert downstream.pending() == 0
    downstream.build_finished(up)
    assert downstream.pending() == 1


async def test_rebuild_queues_the_same_parameters(svc: Daemon) -> None:
    await svc.resources.put_project(Project("r", {"a": "1"}, ["p"]))
    first = await svc.controller.trigger("r", {"a": "2", "git_commit": "abc"})
    # the project drops parameter a since; a rebuild still runs with what the build had
    await svc.resources.put_project(Project("r", {}, ["p"]))
    again = await svc.controller.rebuild(first.id)
    assert again.parameters == {"a": "2", "git_commit": "abc",
                                "ick_trigger": "rebuild", "ick_event": "manual"}
    assert (again.project, again.number) == ("r", first.number + 1)
    with pytest.raises(NotFoundError, match="no build 999"):
        await svc.controller.rebuild(999)


async def test_unknown_parameters_are_refused_unless_the_project_takes_extras(
        svc: Daemon) -> None:
    await svc.resources.put_pipeline(checked("needs", ["target"], []))
    await svc.resources.put_project(Project("strict", {"a": 1}, ["p", "needs"]))
    with pytest.raises(InputError) as info:
        await svc.controller.trigger("strict", {"target": "x", "nosuch": "1"})
    assert info.value.message == (
        "project 'strict' has no parameter 'nosuch' (known: a, git_commit, git_ref, "
        "ick_trigger, target; a project with extra_parameters: true takes any)")
    assert await svc.builds.list("strict") == []
    build = await svc.controller.trigger("strict", {"target": "x", "git_ref": "main"})
    assert build.parameters["ick_trigger"] == "api"
    await svc.resources.put_project(Project("loose", {}, ["p"], extra_parameters=True))
    build = await svc.controller.trigger("loose", {"anything": "1"})
    assert build.parameters["anything"] == "1"


async def test_a_poll_that_cannot_fetch_builds_nothing_and_says_why(
        svc: Daemon, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    await svc.resources.put_project(Project(
        "gone", {"git_url": str(tmp_path / "nosuch.git")}, ["p"], poll=60))
    await svc.resources.put_project(Project("nourl", {}, ["p"], poll=60))
    polls = Polls(svc.resources, TimerStore(svc.db), svc.controller.trigger,
                  FakeClock(datetime(2026, 1, 1, tzinfo=UTC)), svc.settings.state_dir / "git")
    assert await polls.check_due() == []
    assert await svc.builds.list() == []
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("poll of project gone: cannot fetch ") for m in messages), messages
    assert "poll of project nourl: it has no git_url parameter" in messages
