"""Outputs of a build a real remote `ick worker` ran (ick/worker/remote.py uploads them over
PUT /work/{build}/{seq}/outputs/{path}): downloaded over the API byte for byte, each matrix
job's under its own `job`."""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.daemon import Daemon
from tests.remote import RemoteWorker


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def download(daemon: Daemon, path: str) -> tuple[bytes, str]:
    request = urllib.request.Request(daemon.url + path, headers={
        "Authorization": f"Bearer {daemon.admin_token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read(), response.headers["Ick-Digest"]


def test_a_remote_worker_s_outputs_download_byte_for_byte(
        start_daemon: Callable[..., Daemon], tmp_path: Path) -> None:
    daemon = start_daemon(workers=0)
    data = {job: os.urandom(3 * 1024 * 1024 + job) for job in (0, 1)}
    for job, content in data.items():
        (tmp_path / f"data.{job}").write_bytes(content)
    daemon.apply(f"""
projects:
  - project: remote-outs
    pipelines: [make]
    matrix:
      flavour: [plain, fancy]
pipelines:
  - pipeline: make
    actions:
      - shell: |
          mkdir -p dist/sub
          cp {tmp_path}/data.$ICK_JOB dist/sub/blob.bin
          echo "job $ICK_JOB" > notes.txt
          ln -s sub/blob.bin dist/link.bin
        where: host
        outputs: ["dist/**/*.bin", "notes.txt"]
""")
    worker = RemoteWorker(daemon, tmp_path, "w1").start()
    try:
        worker.wait_registered()
        build_id = daemon.trigger("remote-outs")
        doc = daemon.wait_build(build_id, timeout=120)
    finally:
        worker.stop()
    assert doc["state"] == "succeeded", (doc, worker.log()[-3000:])
    assert all(str(j["worker"]).startswith("w1-") for j in doc["jobs"]), doc["jobs"]
    expected = []
    for job, content in data.items():
        notes = f"job {job}\n".encode()
        expected += [
            {"path": "dist/link.bin", "size": len(content), "digest": sha(content), "job": job},
            {"path": "dist/sub/blob.bin", "size": len(content), "digest": sha(content),
             "job": job},
            {"path": "notes.txt", "size": len(notes), "digest": sha(notes), "job": job},
        ]
    assert doc["outputs"] == expected
    for job, content in data.items():
        got, digest = download(daemon, f"/builds/{build_id}/outputs/dist/sub/blob.bin?job={job}")
        assert (got == content, digest) == (True, sha(content))
    got, _ = download(daemon, f"/builds/{build_id}/outputs/notes.txt")
    assert got == b"job 0\n"
