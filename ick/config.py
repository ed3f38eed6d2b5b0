"""Daemon settings (built-in defaults, then ick.yaml, then the environment, then flags) and the
one place ick reads its environment: every variable it looks at is named in this module, or
(the command-line tool's three) in ick.config_cli, which this module re-exports.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

from ick.config_cli import DEFAULT_STATE_DIR as DEFAULT_STATE_DIR
from ick.config_cli import ClientEnvironment as ClientEnvironment
from ick.config_cli import client_environment as client_environment
from ick.errors import InputError

DEFAULT_LISTEN = "127.0.0.1:4250"
DEFAULT_MAX_LOG_MB = 1024
DEFAULT_MAX_OUTPUTS_MB = 1024
MAX_MAX_LOG_MB = 2**20  # a mebibyte count past a tebibyte is a typo, not a plan


@dataclass
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    starttls: bool = False
    tls: bool = False
    user: str | None = None
    password_file: str | None = None
    sender: str = "ick@localhost"


@dataclass(frozen=True)
class MatrixSettings:
    """`matrix: {homeserver: URL, token_file: PATH}`: where ick posts, and the file holding
    the access token of its Matrix user (read at each send, never logged)."""

    homeserver: str
    token_file: str


@dataclass(frozen=True)
class IrcSettings:
    """`irc: {server: HOST:PORT, tls: BOOL, nick: NAME, password_file: PATH}`."""

    host: str
    port: int
    tls: bool = False
    nick: str = "ick"
    password_file: str | None = None  # the server password (PASS), read at each connection

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class Settings:
    listen: str = DEFAULT_LISTEN
    state_dir: Path = field(default_factory=lambda: Path(DEFAULT_STATE_DIR).expanduser())
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    public_url: str | None = None
    debian_mirror: str | None = None
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    matrix: MatrixSettings | None = None  # the matrix channel's; None: not configured
    irc: IrcSettings | None = None
    max_log_mb: int = DEFAULT_MAX_LOG_MB  # a build's log stops growing past this
    max_outputs_mb: int = DEFAULT_MAX_OUTPUTS_MB  # one build's outputs, in all
    worker_labels: dict[str, list[str]] = field(default_factory=dict)  # the local workers' own
    worker_lease: float = 60.0  # seconds; ICK_WORKER_LEASE changes it, for tests only
    public_badges: bool = False  # /badges/{project}.svg without a session
    keep_builds: int | None = 200  # per project; null keeps every build
    keep_days: float | None = None
    keep_deployments: int = 10  # per environment: their builds are never pruned
    max_connections: int = 512  # open HTTP connections; past it the longest waiting goes
    header_timeout: float = 10.0  # seconds a request's headers may take to arrive
    max_streams: int = 256  # live log streams open at once, in all
    max_streams_per_session: int = 8  # ... and of one web session or API token
    # Where unpacked systrees live: "disk" (STATE/systrees) or "tmpfs" (faster to unpack,
    # but each tree holds its size in RAM).
    systree_cache: str = "disk"

    @property
    def host_port(self) -> tuple[str, int]:
        return parse_listen(self.listen)

    def url(self, port: int | None = None) -> str:
        host, configured = self.host_port
        return self.public_url or f"http://{host}:{port if port is not None else configured}"


KEYS = {"listen", "state_dir", "workers", "public_url", "debian_mirror", "smtp", "matrix", "irc",
        "worker_labels", "max_log_mb", "max_outputs_mb", "public_badges", "keep_builds",
        "keep_days", "keep_deployments", "max_connections", "header_timeout", "max_streams",
        "max_streams_per_session", "systree_cache"}
SYSTREE_CACHES = ("disk", "tmpfs")
SMTP_KEYS = {"host", "port", "starttls", "tls", "user", "password_file", "from"}
MATRIX_KEYS = {"homeserver", "token_file"}
IRC_KEYS = {"server", "tls", "nick", "password_file"}
# RFC 2812's nickname: a letter or special first, then letters, digits, specials and `-`.
IRC_NICK = r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]{0,29}"


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise InputError(f"listen: expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def load_settings(
    path: str | None, environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Settings from the config file (if any), ICK_STATE_DIR, and command-line overrides;
    `environ` is the process's own unless a test gives another."""
    environ = os.environ if environ is None else environ
    overrides = overrides or {}
    doc: dict[str, Any] = {}
    if path is not None:
        import yaml  # only here: the daemon has no other use for a YAML parser

        try:
            with open(path) as f:
                loaded = yaml.safe_load(f)
        except OSError as e:
            raise InputError(f"{path}: cannot read: {e.strerror}") from None
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise InputError(f"{path}{line}: not valid YAML") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise InputError(f"{path}: expected a mapping of settings")
        doc = loaded or {}
        unknown = sorted(set(doc) - KEYS)
        if unknown:
            raise InputError(
                f"{path}: unknown setting {unknown[0]!r} "
                f"(expected one of: {', '.join(sorted(KEYS))})"
            )
    where = path or "settings"
    settings = Settings()
    if environ.get("ICK_STATE_DIR"):
        settings.state_dir = Path(environ["ICK_STATE_DIR"]).expanduser()
    merged = {**doc, **{k: v for k, v in overrides.items() if v is not None}}
    if "listen" in merged:
        settings.listen = str(merged["listen"])
        parse_listen(settings.listen)
    if "state_dir" in merged:
        settings.state_dir = Path(str(merged["state_dir"])).expanduser()
    if "workers" in merged:
        workers = merged["workers"]
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 0:
            raise InputError(
                f"{where}: workers: expected a whole number of at least 0 (0: remote workers only)"
            )
        settings.workers = workers
    for key in ("max_log_mb", "max_outputs_mb"):
        if key in merged:
            mb = merged[key]
            if not isinstance(mb, int) or isinstance(mb, bool) or not 1 <= mb <= MAX_MAX_LOG_MB:
                raise InputError(
                    f"{where}: {key}: expected a whole number of mebibytes from 1 to "
                    f"{MAX_MAX_LOG_MB}"
                )
            setattr(settings, key, mb)
    for key in ("public_url", "debian_mirror"):
        if merged.get(key) is not None:
            setattr(settings, key, str(merged[key]).rstrip("/"))
    if "systree_cache" in merged:
        if merged["systree_cache"] not in SYSTREE_CACHES:
            raise InputError(f"{where}: systree_cache: expected disk or tmpfs")
        settings.systree_cache = merged["systree_cache"]
    if "public_badges" in merged:
        if not isinstance(merged["public_badges"], bool):
            raise InputError(f"{where}: public_badges: expected true or false")
        settings.public_badges = merged["public_badges"]
    if "keep_builds" in merged:
        keep = merged["keep_builds"]
        if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool)
                                 or keep < 1):
            raise InputError(f"{where}: keep_builds: expected a whole number of at least 1, "
                             "or null to keep every build")
        settings.keep_builds = keep
    if "keep_deployments" in merged:
        keep = merged["keep_deployments"]
        if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
            raise InputError(f"{where}: keep_deployments: expected a whole number of at least 1")
        settings.keep_deployments = keep
    if "keep_days" in merged:
        days = merged["keep_days"]
        if days is not None and (not isinstance(days, int | float) or isinstance(days, bool)
                                 or not 0 < days < 1e6):
            raise InputError(f"{where}: keep_days: expected a positive number of days, "
                             "or null")
        settings.keep_days = days
    for key, low, high in (("max_connections", 1, 1_000_000), ("max_streams", 0, 1_000_000),
                           ("max_streams_per_session", 0, 1_000_000)):
        if key in merged:
            number = merged[key]
            if not isinstance(number, int) or isinstance(number, bool) or not (
                    low <= number <= high):
                raise InputError(f"{where}: {key}: expected a whole number from {low} to {high}")
            setattr(settings, key, number)
    if "header_timeout" in merged:
        seconds = merged["header_timeout"]
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not (
                0 < seconds <= 3600):
            raise InputError(f"{where}: header_timeout: expected a number of seconds above 0, "
                             "at most 3600")
        settings.header_timeout = float(seconds)
    if merged.get("smtp") is not None:
        settings.smtp = _smtp(merged["smtp"], where)
    if merged.get("matrix") is not None:
        settings.matrix = _matrix(merged["matrix"], where)
    if merged.get("irc") is not None:
        settings.irc = _irc(merged["irc"], where)
    if merged.get("worker_labels") is not None:
        settings.worker_labels = _worker_labels(merged["worker_labels"], where)
    if environ.get("ICK_WORKER_LEASE"):
        try:
            settings.worker_lease = float(environ["ICK_WORKER_LEASE"])
        except ValueError:
            raise InputError("ICK_WORKER_LEASE: expected a number of seconds") from None
        if not 0.1 <= settings.worker_lease <= 3600:
            raise InputError("ICK_WORKER_LEASE: expected 0.1 to 3600 seconds")
    return settings


def _worker_labels(doc: Any, where: str) -> dict[str, list[str]]:
    """`worker_labels: {kvm: "yes", arch: [amd64, i386]}`: labels of the local workers."""
    from ick.scheduler.routing import label_problem

    if not isinstance(doc, dict):
        raise InputError(f"{where}: worker_labels: expected a mapping of labels to values")
    out: dict[str, list[str]] = {}
    for key, value in doc.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(key, str) or not isinstance(item, str | int) or isinstance(
                    item, bool):
                raise InputError(f"{where}: worker_labels: {key!r}: expected strings "
                                 "(quote yes and no)")
            problem = label_problem(key, str(item))
            if problem:
                raise InputError(f"{where}: worker_labels: {problem}")
        out[key] = [str(v) for v in values]
    return out


def _smtp(doc: Any, where: str) -> SmtpSettings:
    if not isinstance(doc, dict):
        raise InputError(f"{where}: smtp: expected a mapping")
    unknown = sorted(set(doc) - SMTP_KEYS)
    if unknown:
        raise InputError(f"{where}: smtp: unknown key {unknown[0]!r}")
    smtp = SmtpSettings()
    for key in ("host", "user", "password_file"):
        if doc.get(key) is not None:
            setattr(smtp, key, str(doc[key]))
    if doc.get("from") is not None:
        smtp.sender = str(doc["from"])
    if doc.get("port") is not None:
        if not isinstance(doc["port"], int):
            raise InputError(f"{where}: smtp: port: expected a number")
        smtp.port = doc["port"]
    for key in ("starttls", "tls"):
        if key in doc:
            if not isinstance(doc[key], bool):
                raise InputError(f"{where}: smtp: {key}: expected true or false")
            setattr(smtp, key, doc[key])
    return smtp


def _mapping(doc: Any, where: str, key: str, known: set[str]) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise InputError(f"{where}: {key}: expected a mapping")
    unknown = sorted(set(doc) - known, key=str)
    if unknown:
        raise InputError(f"{where}: {key}: unknown key {unknown[0]!r} "
                         f"(expected one of: {', '.join(sorted(known))})")
    return doc


def _matrix(doc: Any, where: str) -> MatrixSettings:
    from urllib.parse import urlsplit

    doc = _mapping(doc, where, "matrix", MATRIX_KEYS)
    url = doc.get("homeserver")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"{where}: matrix: homeserver: expected an http or https url")
    token_file = doc.get("token_file")
    if not isinstance(token_file, str) or not token_file:
        raise InputError(f"{where}: matrix: token_file: expected the path of a file holding "
                         "the access token")
    return MatrixSettings(url.rstrip("/"), token_file)


def _irc(doc: Any, where: str) -> IrcSettings:
    import re

    doc = _mapping(doc, where, "irc", IRC_KEYS)
    server = doc.get("server")
    host, sep, port = server.rpartition(":") if isinstance(server, str) else ("", "", "")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"{where}: irc: server: expected HOST:PORT")
    tls = doc.get("tls", False)
    if not isinstance(tls, bool):
        raise InputError(f"{where}: irc: tls: expected true or false")
    nick = doc.get("nick", "ick")
    if not isinstance(nick, str) or not re.fullmatch(IRC_NICK, nick):
        raise InputError(f"{where}: irc: nick: expected a nickname of letters, digits and "
                         "[]\\`_^{|}- (not starting with a digit or -), at most 30")
    password_file = doc.get("password_file")
    if password_file is not None and (not isinstance(password_file, str) or not password_file):
        raise InputError(f"{where}: irc: password_file: expected a path")
    return IrcSettings(host.strip("[]"), int(port), tls, nick, password_file)


# Variables of the daemon's environment that actions may see; everything else stays out,
# so a token or password in the daemon's environment never reaches a build.
PASSED_ENV = (
    "PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME", "TMPDIR",
    "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
)


def passed_env() -> dict[str, str]:
    """The daemon's own values of PASSED_ENV, for the commands it runs."""
    return {k: os.environ[k] for k in PASSED_ENV if k in os.environ}


def local_zone() -> tzinfo:
    """The daemon's time zone (schedules are in it): TZ, else /etc/localtime, else UTC."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = os.environ.get("TZ", "").removeprefix(":")
    try:
        if name:
            return ZoneInfo(name)
        with open("/etc/localtime", "rb") as f:
            return ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError, ZoneInfoNotFoundError):
        return ZoneInfo("UTC")


# Test knob, not a setting: multiplies every notification retry delay (0.05 makes the first
# retry 0.5 s).
RETRY_SCALE_VARIABLE = "ICK_NOTIFY_RETRY_SCALE"


def retry_scale() -> float:
    """ICK_NOTIFY_RETRY_SCALE, read once at start: above 0, at most 1; else 1."""
    text = os.environ.get(RETRY_SCALE_VARIABLE)
    if not text:
        return 1.0
    try:
        scale = float(text)
    except ValueError:
        scale = -1.0
    if not 0 < scale <= 1:
        import logging  # here: the command-line tool reads this module too, and logs nothing

        logging.getLogger(__name__).warning("ignoring %s=%r: expected a number above 0, at most 1",
                    RETRY_SCALE_VARIABLE, text)
        return 1.0
    return scale
