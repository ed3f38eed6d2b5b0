"""Every `ick` subcommand, each behind a loader that imports its module only when it is used.

Every CLI call pays Python's start-up, so none loads the modules of commands it does not run.
A loader returns its module's commands by name; mypy checks each one is a click command.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import click

Commands = Mapping[str, click.Command]


def _resources() -> Commands:
    from ick.cli import resources

    return {"apply": resources.apply, "make-it-so": resources.make_it_so,
            "projects": resources.projects, "pipelines": resources.pipelines}


def _builds() -> Commands:
    from ick.cli import builds

    return {"trigger": builds.trigger, "builds": builds.builds, "build": builds.build,
            "log": builds.log, "cancel": builds.cancel, "rebuild": builds.rebuild}


def _prune() -> Commands:
    from ick.cli import prune

    return {"prune": prune.prune}


def _artifacts() -> Commands:
    from ick.cli import artifacts

    return {"artifacts": artifacts.artifacts}


def _outputs() -> Commands:
    from ick.cli import outputs

    return {"outputs": outputs.outputs}


def _deployments() -> Commands:
    from ick.cli import deployments

    return {"environments": deployments.environments, "deployments": deployments.deployments,
            "deploy": deployments.deploy, "rollback": deployments.rollback,
            "approve": deployments.approve, "reject": deployments.reject}


def _secrets() -> Commands:
    from ick.cli import secrets

    return {"secret": secrets.secret}


def _tokens() -> Commands:
    from ick.cli import tokens

    return {"token": tokens.token}


def _login() -> Commands:
    from ick.cli import login

    return {"login-link": login.login_link}


def _hook() -> Commands:
    from ick.cli import hook

    return {"hook": hook.hook}


def _gate() -> Commands:
    from ick.cli import gate

    return {"gate": gate.gate}


def _webhook() -> Commands:
    from ick.cli import webhook

    return {"webhook": webhook.webhook}


def _serve() -> Commands:
    from ick.cli import serve

    return {"serve": serve.serve}


def _worker() -> Commands:
    from ick.cli import worker

    return {"worker": worker.worker, "workers": worker.workers}


def _doctor() -> Commands:
    from ick.cli import doctor

    return {"doctor": doctor.doctor}


COMMANDS: dict[str, Callable[[], Commands]] = {
    "apply": _resources,
    "make-it-so": _resources,
    "projects": _resources,
    "pipelines": _resources,
    "trigger": _builds,
    "builds": _builds,
    "build": _builds,
    "log": _builds,
    "cancel": _builds,
    "rebuild": _builds,
    "prune": _prune,
    "artifacts": _artifacts,
    "outputs": _outputs,
    "secret": _secrets,
    "environments": _deployments,
    "deployments": _deployments,
    "deploy": _deployments,
    "rollback": _deployments,
    "approve": _deployments,
    "reject": _deployments,
    "token": _tokens,
    "login-link": _login,
    "hook": _hook,
    "gate": _gate,
    "webhook": _webhook,
    "serve": _serve,
    "worker": _worker,
    "workers": _worker,
    "doctor": _doctor,
}
