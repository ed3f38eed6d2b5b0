"""`action: rsync`: make `user@host:path` hold exactly a workspace folder, over ssh, with the
key and known hosts from the project's secrets; the host key is always checked.
"""

from __future__ import annotations

import re
from pathlib import Path

from ick.errors import ActionError
from ick.runners.base import ActionContext, ActionType, Tool
from ick.runners.confine import confine
from ick.runners.process import run_process
from ick.runners.result import ActionResult
from ick.runners.rules import SECRET_NAME, STRING, Rule, is_port
from ick.runners.tools import require_tool

TARGET_RE = re.compile(
    r"^(?P<user>[A-Za-z0-9._][A-Za-z0-9._-]*)@"
    r"(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):(?P<path>[^\x00-\x1f]+)$"
)
HOST_KEY_FAILED = b"Host key verification failed"
TAIL = 4096  # bytes of output kept to explain a failure


def source_dir(workspace: Path, src: object) -> Path:
    """Workspace folder `src`, which must exist and lie inside the workspace."""
    path = confine(workspace, src, "rsync_src")
    if not path.is_dir():
        raise ActionError(f"rsync_src {src!r} is not a folder in the workspace")
    return path


def ssh_port(value: object) -> int:
    """A port from the action (a number) or a build parameter (maybe text, from `-p`)."""
    if isinstance(value, str) and value.isdecimal():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise ActionError(f"ssh_port must be a port number from 1 to 65535, not {value!r}")
    return value


def _quoted(path: Path) -> str:
    # rsync splits its -e command at spaces and honours quotes; the paths are ick's own
    # (the build's secrets folder), but a state dir may have a space in its name.
    text = str(path)
    if "'" in text:
        raise ActionError(f"cannot give ssh a path with a quote in it: {text!r}")
    return f"'{text}'"


def ssh_command(port: int, key: Path, known_hosts: Path) -> str:
    return " ".join([
        "ssh", "-F", "/dev/null", "-p", str(port), "-i", _quoted(key),
        "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
        "-o", f"UserKnownHostsFile={_quoted(known_hosts)}",
        "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
        "-o", "UpdateHostKeys=no",
    ])


class RsyncRunner:
    async def run(self, ctx: ActionContext) -> ActionResult:
        target = ctx.required("rsync_target")
        if not isinstance(target, str) or not TARGET_RE.fullmatch(target):
            raise ActionError(f"rsync_target must be user@host:path, not {target!r}")
        src = source_dir(ctx.workspace, ctx.required("rsync_src"))
        port = ssh_port(ctx.setting("ssh_port", 22))
        key_name = ctx.required("ssh_key_secret")
        hosts_name = ctx.required("known_hosts_secret")
        if ctx.secrets_dir is None:
            raise ActionError("rsync got no secrets folder")
        require_tool("ssh", "openssh-client")
        ssh = ssh_command(port, ctx.secrets_dir / key_name, ctx.secrets_dir / hosts_name)
        # --checksum: a file of the same size and modification time is compared by content,
        # not skipped: a roll-back ships the older build's files, whose copies may well have
        # the size and the second of the newer ones, and the target must hold them exactly.
        argv = [require_tool("rsync", "rsync"), "--archive", "--checksum", "--delete",
                "--secluded-args", "--itemize-changes", "-e", ssh, "--", f"{src}/", target]
        tail = bytearray()

        def output(data: bytes) -> None:
            tail.extend(data)
            del tail[:-TAIL]
            ctx.output(data)

        ctx.say(f"rsync {ctx.setting('rsync_src')}/ to {target} (port {port})")
        result = await run_process(argv, cwd=ctx.workspace, env=ctx.base_env(), output=output,
                                   timeout=ctx.timeout, on_start=ctx.started)
        if result.timed_out:
            return ActionResult.of_process(result, ctx.timeout)
        if result.exit_code == 0:
            return ActionResult.ok(rsync_target=target)
        host = TARGET_RE.fullmatch(target)["host"]  # type: ignore[index]
        if HOST_KEY_FAILED in tail:
            message = f"ssh could not verify the host key of {host} against secret {hosts_name!r}"
        else:
            message = f"rsync to {target} failed with exit status {result.exit_code}"
        return ActionResult(result.exit_code, message)


RSYNC = ActionType(
    "rsync", ("host",), RsyncRunner,
    settings={"rsync_src": STRING, "rsync_target": STRING,
              "ssh_port": Rule(is_port, "a port number from 1 to 65535"),
              "ssh_key_secret": SECRET_NAME, "known_hosts_secret": SECRET_NAME},
    tools=(Tool("rsync", "rsync", "the rsync action"),
           Tool("ssh", "openssh-client", "the rsync action")),
    untrusted="delivery",
)
