"""ick/daemon/memory.py: trimming keeps working when file descriptors have run out."""

from __future__ import annotations

import subprocess
import sys

# In a child: one trim to warm up, then no free descriptor at all, then trim again. Looking up
# libc at every trim (find_library runs ldconfig through temporary files) failed here with
# "No usable temporary directory found", which ended the daemon.
CHILD = """
import os, resource
from ick.daemon.memory import trim
trim()
fds = len(os.listdir("/proc/self/fd")) - 1  # less the one that listed them
resource.setrlimit(resource.RLIMIT_NOFILE, (fds, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
try:
    open("/dev/null").close()
except OSError:
    pass
else:
    raise SystemExit("descriptors are not exhausted: the test proves nothing")
trim()
print("trimmed")
"""


def test_trim_needs_no_new_file_descriptors() -> None:
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "trimmed\n"
