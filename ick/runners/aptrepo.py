"""ick's own APT repository: reprepro under STATE/apt, signed with a key ick makes on first use.

    STATE/apt/gnupg/     the signing key's GNUPGHOME (0700)
    STATE/apt/reprepro/  reprepro's conf/ and db/ (never served)
    STATE/apt/www/       dists/, pool/ and key.asc: what the daemon serves at /apt/
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from ick.errors import ActionError
from ick.runners.process import run_process
from ick.runners.tools import require_tool

DIST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ARCHITECTURES = "amd64 arm64 armel armhf i386 mips64el ppc64el riscv64 s390x"
LOCK_WAIT = 600.0  # seconds one publish may wait for another to finish
LOCK_POLL = 0.1
TOOL_TIMEOUT = 300.0

Output = Callable[[bytes], None]


@dataclass(frozen=True)
class DebInfo:
    path: Path
    package: str
    version: str
    architecture: str
    section: str | None = None
    priority: str | None = None

    def defaults(self) -> list[str]:
        """reprepro refuses a package without a section or priority; these fill the gaps."""
        return ([] if self.section else ["--section", "misc"]) + (
            [] if self.priority else ["--priority", "optional"])

    def __str__(self) -> str:
        return f"{self.package} {self.version} ({self.architecture})"


class AptRepo:
    """One repository under `root`; `env` is the environment its tools run in."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.gnupg = root / "gnupg"
        self.base = root / "reprepro"
        self.www = root / "www"
        self.env = {**env, "GNUPGHOME": str(self.gnupg)}

    @property
    def key_path(self) -> Path:
        return self.www / "key.asc"

    async def publish(self, dist: str, debs: list[Path], output: Output,
                      replace: bool = False) -> list[DebInfo]:
        """Add `debs` to `dist`: each must be newer than what the suite has of its package.
        With `replace` (a deployment's run: the suite is to hold exactly what the deployed
        build made), a newer version the suite has is removed first, so apt sees the older
        one, and the same version already there is left as it is."""
        if not DIST_RE.fullmatch(dist):
            raise ActionError(f"bad distribution {dist!r}: use letters, digits, '.', '_', '-'")
        for command, package in (("reprepro", "reprepro"), ("gpg", "gnupg"),
                                 ("gpgconf", "gnupg"), ("dpkg-deb", "dpkg")):
            require_tool(command, package)
        infos = [await self._deb_info(deb) for deb in debs]
        async with self._locked():
            try:
                fingerprint = await self._signing_key(output)
                self._configure(dist, fingerprint)
                kept = []
                for info in infos:
                    if not replace:
                        await self._check_newer(dist, info)
                        kept.append(info)
                        continue
                    have = await self._versions(dist, info)
                    if info.version in have:
                        continue
                    if have:
                        await self._run(["reprepro", *self._where(), "remove", dist,
                                         info.package], output,
                                        f"reprepro could not remove {info.package} from {dist}")
                    kept.append(info)
                for info in kept:
                    await self._run(["reprepro", *self._where(), *info.defaults(),
                                     "includedeb", dist, str(info.path)], output,
                                    f"reprepro could not add {info.path.name} to {dist}")
            finally:
                await self._stop_agent()
        return infos

    # the signing key ---------------------------------------------------------

    async def _signing_key(self, output: Output) -> str:
        """The fingerprint of ick's signing key, made (and exported to key.asc) if missing."""
        self.gnupg.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.gnupg, 0o700)
        fingerprint = await self._fingerprint()
        if fingerprint is None:
            output(b"ick: making the APT repository's signing key\n")
            params = self.gnupg / "ick-key-params"
            params.write_text(
                "%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\n"
                f"Name-Real: ick APT repository\nName-Email: ick@{socket.gethostname()}\n"
                "Expire-Date: 0\n%commit\n"
            )
            await self._run(["gpg", "--batch", "--gen-key", str(params)], output,
                            "gpg could not make the signing key")
            fingerprint = await self._fingerprint()
            if fingerprint is None:
                raise ActionError("gpg made no signing key")
        if not self.key_path.exists():
            self.www.mkdir(parents=True, exist_ok=True)
            tmp = self.key_path.with_suffix(".tmp")
            code, _ = await _capture(["gpg", "--batch", "--yes", "--armor", "--output", str(tmp),
                                      "--export", fingerprint], self.env)
            if code != 0 or not tmp.exists() or tmp.stat().st_size == 0:
                raise ActionError("gpg could not export the signing key")
            os.rename(tmp, self.key_path)
        return fingerprint

    async def _fingerprint(self) -> str | None:
        code, out = await _capture(
            ["gpg", "--batch", "--with-colons", "--list-secret-keys"], self.env
        )
        if code != 0:
            return None
        for line in out.decode(errors="replace").splitlines():
            fields = line.split(":")
            if fields[0] == "fpr":
                return fields[9]
        return None

    async def _stop_agent(self) -> None:
        # gpg leaves an agent behind for the GNUPGHOME; it would outlive the build.
        await _capture(["gpgconf", "--kill", "gpg-agent"], self.env)

    # reprepro ------------------------------------------------------------------

    def _where(self) -> list[str]:
        return ["--basedir", str(self.base), "--outdir", str(self.www)]

    def _configure(self, dist: str, fingerprint: str) -> None:
        """conf/distributions names every suite published so far; a new one is added here."""
        conf = self.base / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        path = conf / "distributions"
        known = self.distributions()
        if dist in known and fingerprint in path.read_text():
            return
        stanzas = [
            f"Codename: {name}\nSuite: {name}\nComponents: main\nArchitectures: {ARCHITECTURES}\n"
            f"Description: packages built by ick\nSignWith: {fingerprint}\n"
            for name in sorted({*known, dist})
        ]
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(stanzas))
        os.rename(tmp, path)

    def distributions(self) -> list[str]:
        try:
            text = (self.base / "conf" / "distributions").read_text()
        except FileNotFoundError:
            return []
        return re.findall(r"^Codename: (\S+)$", text, re.MULTILINE)

    async def _versions(self, dist: str, deb: DebInfo) -> list[str]:
        """The versions of the deb's package the suite has, for its architecture."""
        code, out = await _capture(["reprepro", *self._where(), "list", dist, deb.package],
                                   self.env)
        if code != 0:
            raise ActionError(f"reprepro could not list {deb.package} in {dist}")
        found = []
        for line in out.decode(errors="replace").splitlines():
            # DIST|COMPONENT|ARCH: PACKAGE VERSION
            where, _, rest = line.partition(": ")
            parts = rest.split()
            arch = where.rsplit("|", 1)[-1]
            if len(parts) != 2 or parts[0] != deb.package:
                continue
            if deb.architecture != "all" and arch not in (deb.architecture, "source"):
                continue
            found.append(parts[1])
        return found

    async def _check_newer(self, dist: str, deb: DebInfo) -> None:
        for have in await self._versions(dist, deb):
            if have == deb.version:
                raise ActionError(f"version {deb.version} of {deb.package} is already in {dist}")
            if await _version_less(deb.version, have, self.env):
                raise ActionError(
                    f"version {deb.version} of {deb.package} is older than {have}, "
                    f"which {dist} already has"
                )

    async def _deb_info(self, path: Path) -> DebInfo:
        code, out = await _capture(
            ["dpkg-deb", "--field", str(path), "Package", "Version", "Architecture", "Section",
             "Priority"], self.env
        )
        fields = dict(
            line.split(": ", 1) for line in out.decode(errors="replace").splitlines()
            if ": " in line
        )
        if code != 0 or not {"Package", "Version", "Architecture"} <= fields.keys():
            raise ActionError(f"{path.name} is not a Debian package (dpkg-deb cannot read it)")
        return DebInfo(path, fields["Package"], fields["Version"], fields["Architecture"],
                       fields.get("Section"), fields.get("Priority"))

    async def _run(self, argv: list[str], output: Output, failure: str) -> None:
        result = await run_process(argv, cwd=self.root, env=self.env, output=output,
                                   timeout=TOOL_TIMEOUT)
        if result.exit_code != 0:
            raise ActionError(f"{failure} (exit status {result.exit_code})")

    @contextlib.asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        """One publish at a time per repository, across processes (reprepro's own lock
        fails at once instead of waiting)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + LOCK_WAIT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if loop.time() > deadline:
                        raise ActionError(
                            f"the APT repository stayed locked for {LOCK_WAIT:g} s"
                        ) from None
                    await asyncio.sleep(LOCK_POLL)
            yield
        finally:
            os.close(fd)


async def _capture(argv: list[str], env: dict[str, str]) -> tuple[int, bytes]:
    chunks: list[bytes] = []
    result = await run_process(argv, cwd=None, env=env, output=chunks.append,
                               timeout=TOOL_TIMEOUT)
    return result.exit_code, b"".join(chunks)


async def _version_less(a: str, b: str, env: dict[str, str]) -> bool:
    code, _ = await _capture(["dpkg", "--compare-versions", a, "lt", b], env)
    return code == 0
