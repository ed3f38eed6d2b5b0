"""Project secrets at rest: one file per secret, STATE/secrets/PROJECT/NAME, mode 0600; an
environment's (given only to deployments there) in STATE/secrets/PROJECT/.env/ENV/NAME.

Files rather than SQLite, so a value never sits in the database, its WAL or a backup of it,
and its permissions are the file system's own.
"""

from __future__ import annotations

import os
import shutil
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ick.errors import InputError
from ick.model import SECRET_NAME_RE, SECRET_NAME_RULE, length_problem, shown_name

MAX_SECRET = 64 * 1024
ENVIRONMENTS = ".env"  # STATE/secrets/PROJECT/.env/ENV/NAME: an environment's secrets
MIN_SECRET = 4  # bytes, not counting surrounding white space: shorter cannot be masked usefully


@dataclass(frozen=True)
class SecretInfo:
    """What anyone may know about a secret: its name and when it was set. Never its value."""

    name: str
    updated_at: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "updated_at": self.updated_at}


def check_secret_name(name: str) -> None:
    if not SECRET_NAME_RE.fullmatch(name):
        raise InputError(f"bad secret name {shown_name(name)}: expected {SECRET_NAME_RULE}")
    problem = length_problem(name, "secret")
    if problem:
        raise InputError(problem)


def check_secret_value(name: str, value: bytes) -> None:
    if len(value) > MAX_SECRET:
        raise InputError(f"secret {name!r} is too long: {len(value)} bytes, at most {MAX_SECRET}")
    if len(value.strip()) < MIN_SECRET:
        raise InputError(
            f"secret {name!r} is too short: at least {MIN_SECRET} bytes besides white space, "
            "or masking it would hide ordinary text in logs"
        )


class SecretStore:
    """Reads and writes secret files; directories are 0700, files 0600, writes are atomic."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)

    def _project_dir(self, project: str) -> Path:
        # Project names may hold '/'; quoting keeps one flat directory per project, and
        # since names never contain '%', no two projects share one.
        return self.directory / urllib.parse.quote(project, safe="")

    def _folder(self, project: str, environment: str | None) -> Path:
        # The environments' folder starts with '.': never a project secret's name.
        folder = self._project_dir(project)
        if environment is None:
            return folder
        return folder / ENVIRONMENTS / urllib.parse.quote(environment, safe="")

    def _path(self, project: str, name: str, environment: str | None = None) -> Path:
        check_secret_name(name)
        return self._folder(project, environment) / name

    def set(self, project: str, name: str, value: bytes, environment: str | None = None) -> None:
        path = self._path(project, name, environment)
        check_secret_value(name, value)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(value)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, path)

    def get(self, project: str, name: str, environment: str | None = None) -> bytes | None:
        try:
            return self._path(project, name, environment).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def environments_of(self, project: str, name: str) -> list[str]:
        """The environments of the project that have a secret of this name."""
        folder = self._project_dir(project) / ENVIRONMENTS
        if not folder.is_dir():
            return []
        return sorted(urllib.parse.unquote(p.name) for p in folder.iterdir()
                      if (p / name).is_file())

    def remove(self, project: str, name: str, environment: str | None = None) -> bool:
        try:
            self._path(project, name, environment).unlink()
        except FileNotFoundError:
            return False
        return True

    def remove_all(self, project: str) -> int:
        """Remove every secret of a project; how many there were."""
        folder = self._project_dir(project)
        try:
            if not folder.is_dir():
                return 0
        except OSError:  # a name no folder can have (too long): it has no secrets
            return 0
        count = sum(1 for p in folder.iterdir() if not p.name.startswith("."))
        shutil.rmtree(folder)
        return count

    def infos(self, project: str, environment: str | None = None) -> list[SecretInfo]:
        folder = self._folder(project, environment)
        if not folder.is_dir():
            return []
        found = []
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            found.append(SecretInfo(path.name, stamp.strftime("%Y-%m-%dT%H:%M:%SZ")))
        return found

    def values(self, project: str) -> list[bytes]:
        """Every secret value of a project: what its builds' logs must not show."""
        folder = self._project_dir(project)
        if not folder.is_dir():
            return []
        values = [p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")]
        environments = folder / ENVIRONMENTS
        if environments.is_dir():  # an environment's are masked in every build's log too
            values += [p.read_bytes() for e in environments.iterdir() if e.is_dir()
                       for p in e.iterdir() if not p.name.startswith(".")]
        return values
