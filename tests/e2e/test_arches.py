"""End to end: jobs routed by architecture, a foreign (arm64) systree used in a container
through qemu-user-static, and artifacts that keep the architecture of their tree."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ick.runners.arches import host_arch, runnable_arches
from tests.daemon import Daemon
from tests.polling import poll
from tests.remote import RemoteWorker

PRINT_ARCH = """
pipelines:
  - pipeline: say
    actions:
      - shell: echo "arch=$(params | jq -r .debian_arch) job=$ICK_JOB"
        where: host
"""


def test_a_job_waits_for_a_worker_of_its_arch_and_emulated_arches_run_locally(
    daemon: Daemon, workers: Callable[..., RemoteWorker]
) -> None:
    here = host_arch()
    assert here is not None
    arches = [here, "pdp11"]  # no qemu emulates pdp11: no worker of this host has it
    if "arm64" in runnable_arches() and here != "arm64":
        arches.append("arm64")
    daemon.apply(f"""
projects:
  - project: arches
    matrix: {{debian_arch: {json.dumps(arches)}}}
    pipelines: [say]
""" + PRINT_ARCH)
    build_id = daemon.trigger("arches")
    doc = poll(lambda: daemon.build(build_id),
               lambda d: [j["state"] for j in d["jobs"]].count("succeeded") == len(arches) - 1,
               60, lambda d: f"jobs: {d['jobs']}")
    assert doc["state"] == "running"
    assert doc["jobs"][1]["state"] == "queued"
    assert doc["waiting"] == "job 1: no worker has arch=pdp11"
    assert "job 1: no worker has arch=pdp11" in daemon.ick("build", str(build_id)).stdout
    for job in doc["jobs"]:
        if job["job"] != 1:  # the host's own, and arm64 through binfmt, on a local worker
            assert job["worker"].startswith("local"), job

    workers(daemon, "pdpbox", "--label", "arch=pdp11")
    doc = daemon.wait_build(build_id, timeout=60)
    assert doc["state"] == "succeeded"
    assert doc["jobs"][1]["worker"].startswith("pdpbox-")
    assert "arch=pdp11 job=1" in daemon.ick("log", str(build_id), "--job", "1").stdout


def test_an_arm64_systree_runs_emulated_in_a_container_and_keeps_its_arch(
    daemon: Daemon, arm64_tarball: Path
) -> None:
    put = daemon.ick("artifacts", "put", "--arch", "arm64", "bookworm_arm64",
                     str(arm64_tarball))
    assert put.returncode == 0, put.stderr
    daemon.apply("""
projects:
  - project: foreign
    parameters: {systree_name: bookworm_arm64, artifact_name: arm64_tree}
    pipelines: [run]
  - project: fake_tree
    parameters: {artifact_name: fake_tree}
    pipelines: [fake]
pipelines:
  - pipeline: run
    actions:
      - action: populate_systree
        where: host
      - shell: echo "machine=$(uname -m) dpkg=$(dpkg --print-architecture)"
        where: container
  - pipeline: fake
    actions:
      - shell: |
          mkdir -p var/lib/dpkg
          printf 'Package: base-files\\nArchitecture: all\\n\\n' > var/lib/dpkg/status
          printf 'Package: dpkg\\nArchitecture: riscv64\\n' >> var/lib/dpkg/status
        where: host
      - archive: workspace
        where: host
""")
    result = daemon.ick("trigger", "foreign", "--wait")
    assert result.returncode == 0, result.stdout
    assert "machine=aarch64 dpkg=arm64" in result.stdout
    assert "systree bookworm_arm64 (" in result.stdout
    assert "unpacked) ready for arm64\n" in result.stdout

    made = daemon.ick("trigger", "fake_tree", "--wait")
    assert made.returncode == 0, made.stdout
    assert "stored the workspace (riscv64) as artifact fake_tree" in made.stdout
    listed = {a["name"]: a for a in json.loads(daemon.ick("artifacts", "list", "--json").stdout)}
    assert (listed["bookworm_arm64"]["arch"], listed["fake_tree"]["arch"]) == (
        "arm64", "riscv64")
    lines = daemon.ick("artifacts", "list").stdout.splitlines()
    assert any(line.startswith("fake_tree ") and line.endswith("  riscv64") for line in lines)
    bad = daemon.ick("artifacts", "put", "--arch", "no arch!", "x", str(arm64_tarball))
    assert bad.returncode == 2
    assert bad.stderr.strip().endswith(
        "Ick-Arch: expected a Debian architecture like arm64, got 'no arch!'")
    assert "x" not in {a["name"] for a in
                       json.loads(daemon.ick("artifacts", "list", "--json").stdout)}


def test_a_tree_of_an_arch_the_host_does_not_run_fails_with_the_reason(
    daemon: Daemon
) -> None:
    daemon.apply("""
projects:
  - project: pdp
    pipelines: [pdp]
pipelines:
  - pipeline: pdp
    actions:
      - shell: |
          mkdir -p proc sys dev run var/lib/dpkg
          printf 'Package: dpkg\\nArchitecture: pdp11\\n' > var/lib/dpkg/status
        where: host
      - shell: echo never
        where: chroot
""")
    result = daemon.ick("trigger", "pdp", "--wait")
    assert result.returncode == 1
    assert (f"ick: the tree is for pdp11, which this {host_arch()} host does not emulate: "
            "install qemu-user-static and binfmt-support (ick doctor says what this host "
            "runs)\n") in result.stdout
    assert "never" not in result.stdout.replace("echo never", "")
