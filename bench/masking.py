"""Benchmark: what masking secrets costs on the build log's path.

Prints MB/s of LogStore.append for 64 KiB and 256-byte chunks of build output with no
secrets, with 3 and with 30 secrets (one of them a multi-line ssh key), for plain and for
coloured output (ANSI escapes take the masker's slower path), the way Controller.output
appends a command's output. Usage: python bench/masking.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ick.storage.logs import LogStore  # noqa: E402
from ick.storage.masking import Masker  # noqa: E402

TOTAL = 64 * 1024 * 1024
PLAIN = b"compiling src/module_%05d.c ... ok\n"
COLOURED = b"compiling src/module_%05d.c ... \x1b[32mok\x1b[0m\r\n"


def secrets(count: int) -> list[bytes]:
    key = b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + b"\n".join(
        os.urandom(35).hex().encode() for _ in range(6)) + b"\n-----END OPENSSH PRIVATE KEY-----\n"
    return [key] + [os.urandom(12).hex().encode() for _ in range(count - 1)]


def run(directory: Path, chunk: int, count: int, line: bytes) -> float:
    logs = LogStore(directory)
    build_id = chunk * 1000 + count * 10 + len(line) % 10
    logs.open(build_id)
    if count:
        logs.set_masker(build_id, Masker(secrets(count)))
    data = b"".join(line % i for i in range(chunk // len(line) + 1))[:chunk]
    started = time.perf_counter()
    for _ in range(TOTAL // chunk):
        logs.append(build_id, data, stream=True)
    logs.close(build_id)
    elapsed = time.perf_counter() - started
    return TOTAL / elapsed / 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, line in (("plain", PLAIN), ("coloured", COLOURED)):
            for chunk in (64 * 1024, 256):
                figures = [f"{count} secrets {run(Path(tmp), chunk, count, line):7.0f} MB/s"
                           for count in (0, 3, 30)]
                print(f"{name:>8}, chunks of {chunk:>5} B: " + ", ".join(figures))


if __name__ == "__main__":
    main()
