"""The `debootstrap:` action: a Debian root file system in the workspace."""

from __future__ import annotations

import re
from pathlib import Path

from ick.errors import ActionError
from ick.runners.aptsources import default_mirror
from ick.runners.arches import ARCH_RE, emulated_arches, host_arch
from ick.runners.base import ActionContext, ActionType, Tool
from ick.runners.process import run_process
from ick.runners.result import ActionResult
from ick.runners.rules import STRING, Rule, is_nonempty_str
from ick.runners.tools import require_tool

CODENAME_RE = re.compile(r"^[a-z][a-z0-9.-]*$")
VARIANT_RE = re.compile(r"^[a-z][a-z-]*$")
MIRROR_RE = re.compile(r"^(https?|file)://\S+$")
APT_DIR = Path("/etc/apt")


def _checked(value: object, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ActionError(f"bad {what} {value!r}")
    return value


class DebootstrapRunner:
    def __init__(self, apt_dir: Path = APT_DIR) -> None:
        self.apt_dir = apt_dir

    def mirror(self, ctx: ActionContext, codename: str) -> str:
        mirror = ctx.setting("mirror") or ctx.host.debian_mirror
        if mirror is None:
            mirror = default_mirror(codename, self.apt_dir)
        if mirror is None:
            raise ActionError(f"no mirror for {codename!r} in this host's apt sources: "
                              "set `mirror` on the action or debian_mirror in ick.yaml")
        return _checked(mirror, MIRROR_RE, "mirror (expected an http, https or file URL)")

    def arch_args(self, ctx: ActionContext) -> list[str]:
        """`--arch=X` for a `debian_arch` other than the host's. debootstrap then runs the
        second stage in the tree itself, which qemu-user-static's binfmt handler (flag F)
        emulates: no --foreign and no copy of qemu inside the tree."""
        arch = ctx.setting("debian_arch")
        if arch is None:
            return []
        arch = _checked(arch, ARCH_RE, "debian_arch")
        if arch == host_arch():
            return []
        if arch not in emulated_arches():
            raise ActionError(
                f"debian_arch {arch} is foreign to this {host_arch()} host and no binfmt "
                "handler emulates it: install qemu-user-static and binfmt-support "
                "(ick doctor says what this host runs)")
        return [f"--arch={arch}"]

    async def run(self, ctx: ActionContext) -> ActionResult:
        value = ctx.action["debootstrap"]
        codename = ctx.required("debian_codename") if value == "auto" else value
        codename = _checked(codename, CODENAME_RE, "debian codename")
        variant = _checked(ctx.setting("variant", "minbase"), VARIANT_RE, "variant")
        mirror = self.mirror(ctx, codename)
        debootstrap = require_tool("debootstrap", "debootstrap")
        unshare = require_tool("unshare", "util-linux")
        arch_args = self.arch_args(ctx)
        for_arch = f", {arch_args[0].removeprefix('--arch=')}" if arch_args else ""
        ctx.say(f"debootstrap {codename} ({variant}{for_arch}) from {mirror}")
        # In a private mount namespace: what debootstrap mounts inside the tree (/proc, /sys)
        # can never stay mounted in the workspace, however debootstrap ends.
        argv = [unshare, "--mount", "--propagation", "private", "--pid", "--fork",
                "--kill-child", "--mount-proc", "--", debootstrap, f"--variant={variant}",
                *arch_args, codename, str(ctx.workspace), mirror]
        result = await run_process(argv, cwd=ctx.workspace, env=ctx.base_env(),
                                   output=ctx.output, timeout=ctx.timeout, on_start=ctx.started)
        return ActionResult.of_process(result, ctx.timeout)


DEBOOTSTRAP = ActionType(
    "debootstrap", ("host",), DebootstrapRunner,
    value=Rule(is_nonempty_str, "'auto' or a debian codename"),
    settings={"mirror": STRING, "variant": STRING, "debian_codename": STRING,
              "debian_arch": STRING},
    tools=(Tool("debootstrap", "debootstrap", "the debootstrap action"),
           Tool("unshare", "util-linux", "the debootstrap action")),
    arch_key="debian_arch",
)
