"""Routing (ick/scheduler/routing.py) by table, and the machine's use of it: labels, the
local-only actions, slots, waiting reasons and hand-back."""

from __future__ import annotations

from typing import Any

import pytest

from ick.errors import InputError
from ick.model import ActionRecord, ActionState, ActionTraits, Build, BuildState
from ick.scheduler.machine import Outcome
from ick.scheduler.routing import (
    Needs,
    WorkerInfo,
    can_take,
    is_requirement,
    merge_requirements,
    needs_of,
    waiting_reason,
)
from tests.scheduler.test_machine import T0, T1, Traced, shape

AMD = WorkerInfo("a", {"arch": ("amd64", "arm64"), "host": ("box",)})
KVM = WorkerInfo("k", {"arch": ("amd64",), "kvm": ("yes",)})
LOCAL = WorkerInfo("l", {"arch": ("amd64",)}, local=True)
# What the records (ick/runners) say of these types, as a checked pipeline carries it.
SHELL = ActionTraits("shell")
APT_PUBLISH = ActionTraits("apt_publish", local=True)
DEBOOTSTRAP = ActionTraits("debootstrap", arch_key="debian_arch")


@pytest.mark.parametrize(("worker", "needs", "takes"), [
    (AMD, Needs(), True),
    (AMD, Needs({"arch": "arm64"}), True),
    (AMD, Needs({"arch": "riscv64"}), False),
    (AMD, Needs({"kvm": "yes"}), False),
    (KVM, Needs({"kvm": "yes", "arch": "amd64"}), True),
    (KVM, Needs({"kvm": "no"}), False),
    (KVM, Needs(local=True, local_because="apt_publish"), False),
    (LOCAL, Needs(local=True, local_because="apt_publish"), True),
    (LOCAL, Needs({"arch": "amd64"}, local=True), True),
])
def test_can_take(worker: WorkerInfo, needs: Needs, takes: bool) -> None:
    assert can_take(worker, needs) is takes


@pytest.mark.parametrize(("needs", "workers", "reason"), [
    (Needs(), [], "no worker is registered"),
    (Needs(), [AMD], None),
    (Needs({"arch": "riscv64"}), [AMD, KVM], "no worker has arch=riscv64"),
    (Needs({"arch": "riscv64"}), [], "no worker has arch=riscv64"),
    (Needs({"arch": "arm64", "kvm": "yes"}), [AMD, KVM],
     "no worker has all of arch=arm64, kvm=yes"),
    (Needs(local=True, local_because="apt_publish"), [AMD],
     "no local worker (apt_publish needs the controller's disk)"),
    (Needs({"kvm": "yes"}, local=True, local_because="apt_publish"), [KVM, LOCAL],
     "no local worker has kvm=yes"),
    (Needs({"kvm": "yes"}), [KVM, LOCAL], None),
])
def test_waiting_reason(needs: Needs, workers: list[WorkerInfo], reason: str | None) -> None:
    assert waiting_reason(needs, workers) == reason


def test_needs_of_a_build_gathers_every_action() -> None:
    needs = needs_of([(SHELL, {"worker": {"arch": "arm64"}}), (APT_PUBLISH, {}),
                      (SHELL, {"worker": {"kvm": "yes"}})])
    assert needs == Needs({"arch": "arm64", "kvm": "yes"}, True, "apt_publish")


def test_needs_come_from_the_traits_not_the_kind() -> None:
    # The arch an action's arch key names, else the debian_arch parameter.
    assert needs_of([(DEBOOTSTRAP, {"debian_arch": "arm64"})]) == Needs({"arch": "arm64"})
    assert needs_of([(DEBOOTSTRAP, {})], {"debian_arch": "riscv64"}) == Needs(
        {"arch": "riscv64"})
    # A type is local, or has an arch key, because its traits say so, whatever its name.
    assert needs_of([(ActionTraits("apt_publish"), {"debian_arch": "arm64"})]) == Needs()
    assert needs_of([(ActionTraits("deploy", local=True), {})]) == Needs(
        local=True, local_because="deploy")
    assert needs_of([(ActionTraits("qemu", arch_key="cpu"), {"cpu": "s390x"})]) == Needs(
        {"arch": "s390x"})


def test_levels_restrict_further_and_must_agree() -> None:
    assert merge_requirements(("project 'p'", {"arch": "arm64"}), ("pipeline 'q'", None),
                              ("action 1", {"kvm": "yes", "arch": "arm64"})) == {
        "arch": "arm64", "kvm": "yes"}
    with pytest.raises(InputError) as e:
        merge_requirements(("project 'p'", {"arch": "arm64"}), ("action 2", {"arch": "amd64"}))
    assert e.value.message == ("action 2 says worker arch=amd64 but project 'p' says "
                               "arch=arm64: no worker can be both")


@pytest.mark.parametrize(("value", "ok"), [
    ({}, True), ({"arch": "arm64"}, True), ({"n": 3}, True), ({"kvm": True}, False),
    ({"a b": "x"}, False), ({"arch": "x y"}, False), ({"arch": ["a"]}, False), ([], False),
    ("arch=arm64", False),
])
def test_requirement_values(value: Any, ok: bool) -> None:
    assert is_requirement(value) is ok


def build_needing(build_id: int, worker: dict[str, str] | None = None,
                  traits: ActionTraits = SHELL, project: str = "p") -> Build:
    kind = traits.kind
    spec: dict[str, Any] = {"shell": "x"} if kind == "shell" else {"action": kind}
    if worker:
        spec["worker"] = worker
    return Build(id=build_id, project=project, number=build_id, state=BuildState.QUEUED,
                 parameters={}, queued_at=T0, concurrent=True,
                 actions=[ActionRecord("pl", 0, kind, "host", spec, local=traits.local,
                                       arch_key=traits.arch_key),
                          ActionRecord("pl", 1, "shell", "host", {"shell": "y"})])


def test_the_machine_gives_each_build_to_a_worker_that_matches() -> None:
    s = Traced()
    s.add_worker("a", AMD)
    s.add_worker("k", KVM)
    assert s.worker_ready("a", T0) == []
    assert s.worker_ready("k", T0) == []
    kvm, plain = build_needing(1, {"kvm": "yes"}), build_needing(2)
    assert shape(s.enqueue(kvm, T0)) == [("save", 1, (0,)), ("dispatch", "k", 1, 0)]
    assert shape(s.enqueue(plain, T0)) == [("save", 2, (0,)), ("dispatch", "a", 2, 0)]


def test_a_build_no_worker_can_take_waits_with_a_reason_until_one_comes() -> None:
    s = Traced()
    s.add_worker("a", AMD)
    s.worker_ready("a", T0)
    riscv = build_needing(1, {"arch": "riscv64"})
    assert s.enqueue(riscv, T0) == []
    assert s.waiting(1) == "no worker has arch=riscv64"
    other = build_needing(2)
    assert shape(s.enqueue(other, T0))[-1] == ("dispatch", "a", 2, 0)  # it does not block
    s.add_worker("r", WorkerInfo("r", {"arch": ("riscv64",)}))
    assert s.waiting(1) is None
    assert shape(s.worker_ready("r", T1)) == [("save", 1, (0,)), ("dispatch", "r", 1, 0)]


def test_apt_publish_waits_for_a_local_worker() -> None:
    s = Traced()
    s.add_worker("a", AMD)
    s.worker_ready("a", T0)
    assert s.enqueue(build_needing(1, traits=APT_PUBLISH), T0) == []
    assert s.waiting(1) == "no local worker (apt_publish needs the controller's disk)"
    s.add_worker("l", LOCAL)
    assert shape(s.worker_ready("l", T0))[-1] == ("dispatch", "l", 1, 0)


def test_a_worker_with_slots_takes_that_many_builds() -> None:
    s = Traced()
    s.add_worker("w", WorkerInfo("w", slots=2))
    for build_id in (1, 2, 3):
        s.enqueue(build_needing(build_id), T0)
    assert shape(s.worker_ready("w", T0))[-1] == ("dispatch", "w", 1, 0)
    assert shape(s.worker_ready("w", T0))[-1] == ("dispatch", "w", 2, 0)
    assert s.worker_ready("w", T0) == []  # both slots busy
    assert s.queued() == (3,)
    s.action_exited(1, 0, Outcome(0, 0.1), T1)
    assert shape(s.action_exited(1, 1, Outcome(0, 0.1), T1)) == [
        ("save", 1, (1,)), ("finished", 1)]
    assert shape(s.worker_ready("w", T1))[-1] == ("dispatch", "w", 3, 0)


def test_a_handed_back_build_is_queued_first_and_starts_over() -> None:
    s = Traced()
    s.add_worker("a", AMD)
    s.add_worker("b", KVM)
    first, second = build_needing(1), build_needing(2)
    s.worker_ready("a", T0)
    s.enqueue(first, T0)
    s.enqueue(second, T0)
    s.action_exited(1, 0, Outcome(0, 0.1), T0)
    assert shape(s.hand_back(1, 1, T1)) == [("save", 1, (0, 1))]
    now = s.now(first)
    assert (now.state, now.worker, now.started_at) == (BuildState.QUEUED, None, None)
    assert [a.state for a in now.actions] == [ActionState.PENDING, ActionState.PENDING]
    assert now.actions[0].exit_code is None
    assert s.queued() == (1, 2)
    assert s.hand_back(1, 1, T1) == []  # once only
    s.remove_worker("a", T1)
    assert shape(s.worker_ready("b", T1)) == [("save", 1, (0,)), ("dispatch", "b", 1, 0)]


def test_a_cancelled_build_handed_back_ends_cancelled() -> None:
    s = Traced()
    s.add_worker("a", AMD)
    s.worker_ready("a", T0)
    build = build_needing(1)
    s.enqueue(build, T0)
    s.cancel(1, T0)
    assert shape(s.hand_back(1, 0, T1)) == [("save", 1, (0, 1)), ("finished", 1)]
    assert s.now(build).state == BuildState.CANCELLED


def test_a_worker_that_hands_back_is_not_given_the_build_again() -> None:
    s = Traced()
    s.add_worker("a", WorkerInfo("a", slots=2))
    build = build_needing(1)
    s.enqueue(build, T0)
    s.worker_ready("a", T0)
    s.worker_ready("a", T0)  # its second slot waits for work
    assert s.idle_workers() == ("a",)
    assert shape(s.hand_back(1, 0, T1)) == [("save", 1, (0, 1))]
    assert s.idle_workers() == () and s.queued() == (1,)
