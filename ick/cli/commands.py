"""Registers every `ick` subcommand on the group (imported lazily by `main`)."""

from ick.cli import builds, resources, serve, tokens, hook, worker, doctor  # noqa: F401
from ick.cli import secrets  # noqa: F401
