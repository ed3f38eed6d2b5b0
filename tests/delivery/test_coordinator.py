"""The deployments' coordinator with a real controller and local workers: `auto:` on main
only, `after:` refusing with the reason, approval then approve or reject, one deployment per
environment at a time in order, roll-back, a run's workspace holding the deployed build's
outputs, environment secrets refused to other builds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ick.daemon import Daemon
from ick.errors import ConflictError
from ick.model import Build, Project
from ick.storage.deployments import Deployment
from tests.pipelines import checked
from tests.polling import apoll
from tests.services import in_process

READ = "python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' " \
       "\"$ICK_PARAMS\""
# The build writes its version into site/index.html, kept as an output.
BUILD = [{"shell": "mkdir -p site && " + READ + " version > site/index.html",
          "where": "host", "outputs": ["site/*"]}]
# A deployment waits for its `gate` file (when given), then copies the workspace's site/.
DEPLOY = [{"shell": "gate=$(" + READ + " gate); n=0; while [ -n \"$gate\" ] && "
                    "[ ! -e \"$gate\" ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done; "
                    "target=$(" + READ + " target); mkdir -p \"$target\" && "
                    "cp site/index.html \"$target/\"", "where": "host"}]


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Daemon]:
    async with (in_process(tmp_path / "state", workers=2) as daemon,
                asyncio.TaskGroup() as group):
        tasks = [group.create_task(w.run()) for w in daemon.workers]
        tasks.append(group.create_task(daemon.deployments.run()))
        yield daemon
        for task in tasks:
            task.cancel()


async def setup(svc: Daemon, tmp_path: Path, **production: Any) -> None:
    await svc.resources.put_pipeline(checked("build_site", [], BUILD))
    await svc.resources.put_pipeline(checked("deploy_site", [], DEPLOY))
    await svc.resources.put_project(Project(
        "site", {"version": "0", "gate": ""}, ["build_site"], concurrent=True,
        environments=[
            {"environment": "staging", "pipelines": ["deploy_site"],
             "parameters": {"target": str(tmp_path / "staging")}, "auto": {"branch": "main"}},
            {"environment": "production", "pipelines": ["deploy_site"],
             "parameters": {"target": str(tmp_path / "production")}, "after": "staging",
             **production},
        ]))


async def ended(svc: Daemon, build_id: int) -> Build:
    async def get() -> Build | None:
        return await svc.builds.get(build_id)

    found = await apoll(get, lambda b: b is not None and b.state.finished, 60,
                        lambda b: f"build did not end: {b}")
    assert found is not None
    return found


async def settled(svc: Daemon, deployment_id: int, states: tuple[str, ...] = (
        "succeeded", "failed", "cancelled", "rejected")) -> Deployment:
    async def get() -> Deployment:
        await svc.outbox.drain()
        return await svc.deployments.get(deployment_id)

    return await apoll(get, lambda d: d.state.value in states, 60,
                       lambda d: f"deployment still {d.state.value}")


async def built(svc: Daemon, version: str, branch: str = "main") -> Build:
    """A build of the branch, ended and told to the coordinator (the controller counts a
    build's end as it tells its listeners)."""
    before = svc.controller.activity()
    build = await svc.controller.trigger("site", {"version": version,
                                                  "git_ref": f"refs/heads/{branch}"})
    done = await ended(svc, build.id)
    await apoll(lambda: asyncio.sleep(0, svc.controller.activity()), lambda n: n > before, 30,
                lambda n: "the build's end was not told")
    return done


async def quiet(svc: Daemon) -> None:
    """Every ended build handled by the coordinator."""
    await apoll(lambda: asyncio.sleep(0, svc.deployments.pending()), lambda n: n == 0, 30,
                lambda n: f"{n} builds not handled")


async def test_main_deploys_to_staging_by_itself_with_its_outputs(svc: Daemon,
                                                                  tmp_path: Path) -> None:
    await setup(svc, tmp_path)
    build = await built(svc, "1")
    assert build.state.value == "succeeded"
    await quiet(svc)
    [deployment] = await svc.deployments.store.find("site")
    assert (deployment.environment, deployment.build, deployment.reason,
            deployment.requested_by) == ("staging", build.id, "auto", "ick")
    done = await settled(svc, deployment.id)
    assert done.state.value == "succeeded", done
    assert (tmp_path / "staging" / "index.html").read_text() == "1\n"
    assert done.run is not None
    run = await svc.builds.get(done.run)
    assert run is not None and run.event == "deploy"
    assert run.parameters["ick_environment"] == "staging"
    assert run.parameters["ick_deploy_build"] == build.id
    assert run.parameters["ick_trigger"] == "deploy"
    assert run.parameters["target"] == str(tmp_path / "staging")
    assert run.git.branch == "main"
    assert [a.pipeline for a in run.actions] == ["deploy_site"]
    # Nothing is rebuilt; the run itself deploys nowhere and makes no outputs.
    await quiet(svc)
    assert len(await svc.deployments.store.find("site")) == 1
    live = await svc.deployments.live("site", "staging")
    assert live is not None and live.build == build.id


async def test_a_feature_branch_deploys_nowhere(svc: Daemon, tmp_path: Path) -> None:
    await setup(svc, tmp_path)
    build = await built(svc, "2", branch="feat/x")
    assert build.state.value == "succeeded"
    await quiet(svc)
    assert await svc.deployments.store.find("site") == []


async def test_after_refuses_a_build_not_deployed_there_saying_why(svc: Daemon,
                                                                   tmp_path: Path) -> None:
    await setup(svc, tmp_path)
    build = await built(svc, "3", branch="feat/x")
    with pytest.raises(ConflictError) as caught:
        await svc.deployments.deploy("site", "production", build.id, "alice")
    assert caught.value.message == (
        f"build {build.id} has no succeeded deployment to 'staging', and environment "
        "'production' takes only builds deployed there (after: staging)")
    with pytest.raises(ConflictError) as none_live:
        await svc.deployments.deploy("site", "production", None, "alice")
    assert "nothing is live in 'staging'" in none_live.value.message


async def test_approval_waits_then_approved_runs_and_rejected_ends(svc: Daemon,
                                                                   tmp_path: Path) -> None:
    await setup(svc, tmp_path, approval=True)
    first = await built(svc, "4")
    await quiet(svc)
    [staging] = await svc.deployments.store.find("site")
    await settled(svc, staging.id)
    waiting = await svc.deployments.deploy("site", "production", None, "alice")
    assert (waiting.state.value, waiting.build, waiting.approved_by) == (
        "waiting", first.id, None)
    envs = await svc.deployments.environments("site")
    assert [d["id"] for d in envs[1]["waiting"]] == [waiting.id]
    approved = await svc.deployments.approve(waiting.id, "bob")
    assert approved.approved_by == "bob"
    assert (await settled(svc, waiting.id)).state.value == "succeeded"
    assert (tmp_path / "production" / "index.html").read_text() == "4\n"
    with pytest.raises(ConflictError):
        await svc.deployments.approve(waiting.id, "bob")
    again = await svc.deployments.deploy("site", "production", first.id, "alice")
    rejected = await svc.deployments.reject(again.id, "bob")
    assert (rejected.state.value, rejected.run, rejected.approved_by) == (
        "rejected", None, None)


async def test_one_deployment_at_a_time_in_order_then_roll_back(svc: Daemon,
                                                                tmp_path: Path) -> None:
    await setup(svc, tmp_path)
    gate = tmp_path / "gate"
    await svc.resources.put_project(Project(
        "site", {"version": "0", "gate": str(gate)}, ["build_site"], concurrent=True,
        environments=[{"environment": "staging", "pipelines": ["deploy_site"],
                       "parameters": {"target": str(tmp_path / "staging")}}]))
    one = await built(svc, "5")
    two = await built(svc, "6")
    first = await svc.deployments.deploy("site", "staging", one.id, "alice")
    second = await svc.deployments.deploy("site", "staging", two.id, "alice")
    assert first.state.value == "running"
    # The first's run waits for the gate; the second waits for the first, with no run.
    await apoll(lambda: svc.builds.get(first.run or 0),
                lambda b: b is not None and b.state.value == "running", 30,
                lambda b: f"first run: {b}")
    assert (await svc.deployments.get(second.id)).state.value == "queued"
    assert (await svc.deployments.get(second.id)).run is None
    gate.touch()
    assert (await settled(svc, first.id)).state.value == "succeeded"
    assert (await settled(svc, second.id)).state.value == "succeeded"
    assert (tmp_path / "staging" / "index.html").read_text() == "6\n"
    back = await svc.deployments.rollback("site", "staging", None, "carol")
    assert (back.build, back.reason, back.requested_by) == (one.id, "rollback", "carol")
    assert (await settled(svc, back.id)).state.value == "succeeded"
    assert (tmp_path / "staging" / "index.html").read_text() == "5\n"
    live = await svc.deployments.live("site", "staging")
    assert live is not None and live.build == one.id
    with pytest.raises(ConflictError):
        await svc.deployments.rollback("site", "staging", 999, "carol")
    forth = await svc.deployments.rollback("site", "staging", two.id, "carol")
    assert (await settled(svc, forth.id)).state.value == "succeeded"
    assert (tmp_path / "staging" / "index.html").read_text() == "6\n"
    needed = await svc.deployments.needed()
    assert {one.id, two.id} <= needed


async def test_environment_secrets_reach_only_that_environment_s_runs(
        svc: Daemon, tmp_path: Path) -> None:
    await setup(svc, tmp_path)
    svc.secrets.set("site", "deploy_key", b"staging-key-1", environment="staging")
    await svc.resources.put_pipeline(checked("deploy_site", [], [
        {"shell": "cp \"$ICK_SECRETS/deploy_key\" \"$(" + READ + " target)\"",
         "where": "host", "secrets": ["deploy_key"]}]))
    (tmp_path / "staging").mkdir()
    build = await built(svc, "7")
    await quiet(svc)
    [deployment] = await svc.deployments.store.find("site")
    assert (await settled(svc, deployment.id)).state.value == "succeeded"
    assert (tmp_path / "staging" / "deploy_key").read_bytes() == b"staging-key-1"
    # A build of another event naming it fails before it starts.
    await svc.resources.put_pipeline(checked("build_site", [], [
        {"shell": "true", "where": "host", "secrets": ["deploy_key"]}]))
    other = await built(svc, "8", branch="feat/y")
    assert other.state.value == "failed"
    assert other.started_at is None or all(a.state.value != "succeeded" for a in other.actions)
    log = (svc.settings.state_dir / "logs" / f"{other.id}.log").read_text()
    assert "secret 'deploy_key', which only deployments to 'staging' get" in log
    assert build.id != other.id
