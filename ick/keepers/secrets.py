"""The daemon's side of project secrets: storing them, masking them in the logs of the
project's builds, and handing the named ones to local workers.
"""

from __future__ import annotations

import logging

from ick.errors import IckError
from ick.model import Build
from ick.storage.logs import LogStore, log_keys
from ick.storage.masking import Masker
from ick.storage.secrets import SecretInfo, SecretStore
from ick.worker.secretfiles import secret_names


def environment_of(build: Build) -> str | None:
    """The environment whose secrets the build's actions get: a deployment's run's."""
    environment = build.parameters.get("ick_environment")
    return environment if build.event == "deploy" and isinstance(environment, str) else None

log = logging.getLogger(__name__)


class SecretKeeper:
    """One per daemon; every change of a secret goes through here so live logs learn of it.

    A controller listener: it knows which builds run, to mask a new value in their logs too.
    """

    def __init__(self, store: SecretStore, logs: LogStore) -> None:
        self.store = store
        self.logs = logs
        self._live: dict[int, str] = {}  # build id -> project, from start to end

    def set(self, project: str, name: str, value: bytes, environment: str | None = None) -> None:
        self.store.set(project, name, value, environment)
        log.info("secret %s of project %s%s set", name, project,
                 "" if environment is None else f" (environment {environment})")
        # A build already running may print the new value: its log must hide it too.
        for build_id in [b for b, p in self._live.items() if p == project]:
            for masker in self.logs.maskers(build_id):
                masker.add(value)

    def remove(self, project: str, name: str, environment: str | None = None) -> bool:
        removed = self.store.remove(project, name, environment)
        if removed:
            log.info("secret %s of project %s removed", name, project)
        return removed

    def forget_project(self, project: str) -> None:
        """The project is deleted: its secrets go too, so a new project of that name starts bare."""
        removed = self.store.remove_all(project)
        if removed:
            log.info("removed %d secrets of deleted project %s", removed, project)

    def infos(self, project: str, environment: str | None = None) -> list[SecretInfo]:
        return self.store.infos(project, environment)

    def value(self, project: str, name: str) -> bytes | None:
        """A secret's value, for the code that gives it to an action or signs with it."""
        return self.store.get(project, name)

    def value_for(self, project: str, name: str, environment: str | None) -> bytes | None:
        """The value an action of a build gets: in a deployment's run to `environment`,
        that environment's secret first; else the project's."""
        if environment is not None:
            value = self.store.get(project, name, environment)
            if value is not None:
                return value
        return self.store.get(project, name)

    def refused(self, build: Build) -> str | None:
        """Why the build may not start: an action names a secret that only the runs of
        deployments to some environment get (and the project has none of that name)."""
        mine = environment_of(build)
        for action in build.actions:
            try:
                names = secret_names(action.kind, action.spec,
                                     build.job_parameters(action.job))
            except IckError:
                continue  # the action fails itself, saying why
            for name in names:
                if self.store.get(build.project, name) is not None:
                    continue  # the project's own: every build gets it
                owners = self.store.environments_of(build.project, name)
                if owners and mine not in owners:
                    return (f"action {action.index + 1} of pipeline {action.pipeline!r} names "
                            f"secret {name!r}, which only deployments to {owners[0]!r} get")
        return None

    def build_started(self, build: Build) -> None:
        """From the first action on, the project's secrets are masked in the build's log.
        A build naming another environment's secret fails before it starts."""
        problem = self.refused(build)
        if problem is not None:
            raise IckError(problem)
        self._live[build.id] = build.project
        values = self.store.values(build.project)
        for key in log_keys(build):  # each log its own: jobs' output interleaves
            self.logs.set_masker(build.id, Masker(values), job=key)

    def action_failed(self, build: Build) -> None:
        pass

    def build_finished(self, build: Build) -> None:
        self._live.pop(build.id, None)
