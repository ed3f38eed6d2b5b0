"""The daemon's side of project secrets: storing them, masking them in the logs of the
project's builds, and handing the named ones to local workers.
"""

from __future__ import annotations

import logging

from ick.model import Build
from ick.storage.logs import LogStore, log_keys
from ick.storage.masking import Masker
from ick.storage.secrets import SecretInfo, SecretStore

log = logging.getLogger(__name__)


class SecretKeeper:
    """One per daemon; every change of a secret goes through here so live logs learn of it.

    A controller listener: it knows which builds run, to mask a new value in their logs too.
    """

    def __init__(self, store: SecretStore, logs: LogStore) -> None:
        self.store = store
        self.logs = logs
        self._live: dict[int, str] = {}  # build id -> project, from start to end

    def set(self, project: str, name: str, value: bytes) -> None:
        self.store.set(project, name, value)
        log.info("secret %s of project %s set", name, project)
        # A build already running may print the new value: its log must hide it too.
        for build_id in [b for b, p in self._live.items() if p == project]:
            for masker in self.logs.maskers(build_id):
                masker.add(value)

    def remove(self, project: str, name: str) -> bool:
        removed = self.store.remove(project, name)
        if removed:
            log.info("secret %s of project %s removed", name, project)
        return removed

    def forget_project(self, project: str) -> None:
        """The project is deleted: its secrets go too, so a new project of that name starts bare."""
        removed = self.store.remove_all(project)
        if removed:
            log.info("removed %d secrets of deleted project %s", removed, project)

    def infos(self, project: str) -> list[SecretInfo]:
        return self.store.infos(project)

    def value(self, project: str, name: str) -> bytes | None:
        """A secret's value, for the code that gives it to an action or signs with it."""
        return self.store.get(project, name)

    def build_started(self, build: Build) -> None:
        """From the first action on, the project's secrets are masked in the build's log."""
        self._live[build.id] = build.project
        values = self.store.values(build.project)
        for key in log_keys(build):  # each log its own: jobs' output interleaves
            self.logs.set_masker(build.id, Masker(values), job=key)

    def action_failed(self, build: Build) -> None:
        pass

    def build_finished(self, build: Build) -> None:
        self._live.pop(build.id, None)
