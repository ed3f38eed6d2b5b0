"""The controller's triggers of pushed refs (DESIGN.md, "What was pushed"): `branches:` and
`tags:` filter them, a ref and commit already built makes no build, `cancel_superseded`
cancels a branch's older push builds; rebuilds keep their git facts; work items carry them."""

from __future__ import annotations

import pytest

from ick.daemon import Daemon
from ick.errors import ConflictError
from ick.model import BuildState, GitFacts, Project
from tests.pipelines import checked

C1, C2, C3 = "1" * 40, "2" * 40, "3" * 40


async def setup(daemon: Daemon, **keys: object) -> None:
    await daemon.resources.put_pipeline(checked("p", [], [{"shell": "true", "where": "host"}]))
    await daemon.resources.put_project(Project("hello", {}, ["p"], **keys))  # type: ignore[arg-type]


def hook(ref: str, commit: str) -> dict[str, object]:
    return {"git_ref": ref, "git_commit": commit}


async def test_a_push_of_a_ref_the_project_does_not_build_makes_no_build(
        services: Daemon) -> None:
    await setup(services, branches=["main"], tags=["v*"])
    controller = services.controller
    with pytest.raises(ConflictError) as refused:
        await controller.trigger("hello", hook("refs/heads/feature/x", C1), ick_trigger="hook")
    assert refused.value.message == (
        "project 'hello' does not build branch 'feature/x' (branches: main)")
    with pytest.raises(ConflictError) as refused:
        await controller.trigger("hello", {"git_commit": C1}, ick_trigger="poll",
                                 git=GitFacts.of_ref("refs/tags/nightly", C1))
    assert refused.value.message == "project 'hello' does not build tag 'nightly' (tags: v*)"
    assert await services.builds.list() == []
    # a manual trigger of that branch is not filtered
    manual = await controller.trigger("hello", hook("refs/heads/feature/x", C1))
    assert (manual.event, manual.git.branch) == ("manual", "feature/x")
    tag = await controller.trigger("hello", hook("refs/tags/v1.0", C1), ick_trigger="hook")
    assert (tag.event, tag.git.tag, tag.git.branch, tag.parameters["ick_event"]) == (
        "tag", "v1.0", None, "tag")


async def test_a_ref_and_commit_built_already_make_no_build(services: Daemon) -> None:
    await setup(services, tags=["*"])
    controller = services.controller
    first, new = await controller.trigger_commit("hello", hook("refs/heads/main", C1),
                                                 ick_trigger="hook")
    assert new
    # the poll of the same push (the ref it polls, as the poll says it)
    again, new = await controller.trigger_commit(
        "hello", {"git_commit": C1}, ick_trigger="poll", git=GitFacts.of_ref("main", C1))
    assert (again.id, new) == (first.id, False)
    # a tag and a branch at one commit are different refs
    tag, new = await controller.trigger_commit("hello", hook("refs/tags/main", C1),
                                               ick_trigger="hook")
    assert new and tag.id != first.id
    # a forge's change (its own ref) is built once too
    change, new = await controller.trigger_commit(
        "hello", hook("refs/pull/7/head", C1), ick_trigger="forge", event="change")
    assert new and change.event == "change"
    again, new = await controller.trigger_commit(
        "hello", hook("refs/pull/7/head", C1), ick_trigger="forge", event="change")
    assert (again.id, new) == (change.id, False)
    # manual triggers always build; a failed build does not count as built
    manual, new = await controller.trigger_commit("hello", hook("refs/heads/main", C1))
    assert new and manual.id not in (first.id, tag.id, change.id)
    await controller.cancel(first.id)
    await controller.cancel(manual.id)
    rebuilt, new = await controller.trigger_commit("hello", hook("refs/heads/main", C1),
                                                   ick_trigger="hook")
    assert new and rebuilt.id > manual.id


async def test_a_new_push_cancels_the_branch_s_older_push_builds(services: Daemon) -> None:
    await setup(services, cancel_superseded=True)
    controller = services.controller
    old = await controller.trigger("hello", hook("refs/heads/main", C1), ick_trigger="hook")
    other = await controller.trigger("hello", hook("refs/heads/feature", C1),
                                     ick_trigger="hook")
    manual = await controller.trigger("hello", hook("refs/heads/main", C1))
    new = await controller.trigger("hello", hook("refs/heads/main", C2), ick_trigger="hook")
    states = {b.id: b.state for b in await services.builds.list()}
    assert states == {old.id: BuildState.CANCELLED, other.id: BuildState.QUEUED,
                      manual.id: BuildState.QUEUED, new.id: BuildState.QUEUED}
    log = services.logs.read(old.id, 0).decode()
    assert f"ick: superseded by build {new.id}\n" in log
    # the same commit pushed again is the new build itself, and cancels nothing
    again = await controller.trigger("hello", hook("refs/heads/main", C2), ick_trigger="poll")
    assert again.id == new.id
    assert (await services.builds.get(new.id)).state is BuildState.QUEUED  # type: ignore[union-attr]


async def test_without_cancel_superseded_older_pushes_stay(services: Daemon) -> None:
    await setup(services)
    controller = services.controller
    old = await controller.trigger("hello", hook("refs/heads/main", C1), ick_trigger="hook")
    await controller.trigger("hello", hook("refs/heads/main", C2), ick_trigger="hook")
    assert (await services.builds.get(old.id)).state is BuildState.QUEUED  # type: ignore[union-attr]


async def test_a_rebuild_is_manual_by_its_token_with_the_old_git_facts(
        services: Daemon) -> None:
    await setup(services)
    facts = GitFacts.of_ref("refs/heads/main", C3, "fix the typo", "A U Thor <a@example.org>")
    old = await services.controller.trigger("hello", hook("refs/heads/main", C3),
                                            ick_trigger="hook", git=facts, triggered_by="hook")
    new = await services.controller.rebuild(old.id, "alice")
    stored = await services.builds.get(new.id)
    assert stored is not None
    assert (stored.event, stored.triggered_by, stored.git) == ("manual", "alice", facts)
    assert (stored.parameters["ick_trigger"], stored.parameters["ick_event"]) == (
        "rebuild", "manual")


async def test_a_work_item_carries_the_event_and_git_facts(services: Daemon) -> None:
    await setup(services, tags=["v*"])
    controller = services.controller
    build = await controller.trigger("hello", hook("refs/tags/v2", C2), ick_trigger="hook")
    worker = await controller.register("w")
    item = await controller.next_work(worker, 5.0)
    assert item is not None and item.build_id == build.id
    assert item.event == "tag"
    assert item.git == GitFacts(ref="refs/tags/v2", tag="v2", commit=C2)
    assert type(item).from_json(item.to_json()) == item  # as a remote worker gets it
