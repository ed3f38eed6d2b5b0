"""Which module defines each `ick` subcommand; `main` imports one only when it is used.

Every CLI call pays Python's start-up, and `ick serve` keeps what it imported for as long as
it runs, so neither loads the modules of commands it does not run.
"""

COMMANDS = {
    "apply": "ick.cli.resources",
    "make-it-so": "ick.cli.resources",
    "projects": "ick.cli.resources",
    "pipelines": "ick.cli.resources",
    "trigger": "ick.cli.builds",
    "builds": "ick.cli.builds",
    "build": "ick.cli.builds",
    "log": "ick.cli.builds",
    "cancel": "ick.cli.builds",
    "rebuild": "ick.cli.builds",
    "prune": "ick.cli.prune",
    "artifacts": "ick.cli.artifacts",
    "secret": "ick.cli.secrets",
    "token": "ick.cli.tokens",
    "login-link": "ick.cli.login",
    "hook": "ick.cli.hook",
    "serve": "ick.cli.serve",
    "worker": "ick.cli.worker",
    "workers": "ick.cli.worker",
    "doctor": "ick.cli.doctor",
}
