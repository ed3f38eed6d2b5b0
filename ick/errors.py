"""The exceptions ick raises on purpose; every one is an IckError.

    IckError                     root; .status is the HTTP status it maps to
    ├── InputError        400    bad input: a body, a parameter, a name
    │   └── IckFileError  400    a .ick file or resource document with problems
    ├── AuthError         401    no token, or a token we do not know
    ├── ForbiddenError    403    a token without the scope a route needs
    ├── NotFoundError     404    no such project, pipeline, build, artifact
    ├── ConflictError     409    the request contradicts the current state
    ├── TooLargeError     413    a request body past its cap (a forge's webhook)
    ├── TooManyError      429    past a cap on what one may hold open (live log streams)
    ├── StorageFullError  507    the disk is full: an upload was not stored
    ├── ActionError              an action could not run (fails the build, no HTTP)
    ├── SendError                a notification was not delivered (recorded, retried)
    └── ClientError              the CLI could not talk to the daemon (exit 3)
"""

from __future__ import annotations


class IckError(Exception):
    """Root of ick's exceptions. The message is short, lowercase, and says what and where."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(IckError):
    status = 400


class IckFileError(InputError):
    """A document with one or more problems; each problem is one line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems) if len(problems) == 1 else "\n".join(problems))
        self.problems = problems


class AuthError(IckError):
    status = 401


class ForbiddenError(IckError):
    status = 403


class NotFoundError(IckError):
    status = 404


class ConflictError(IckError):
    status = 409


class TooLargeError(IckError):
    status = 413


class TooManyError(IckError):
    status = 429


class StorageFullError(IckError):
    """The disk filled up while storing something; nothing half-written was kept."""

    status = 507


class ActionError(IckError):
    """An action could not start or finish; the message goes to the build log."""


class SendError(IckError):
    """A notification was not delivered; the message goes to the notification's history."""


class ClientError(IckError):
    """The CLI could not reach the daemon, or it answered nonsense."""
