"""A small blocking HTTP client on the standard library, so every CLI call starts fast."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import http.client

from ick.errors import ClientError, IckError

DEFAULT_URL = "http://127.0.0.1:4250"


class ApiError(IckError):
    """The daemon answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def admin_token_path(state_dir: str) -> str:
    return os.path.join(state_dir, "admin.token")  # os.path: pathlib costs a CLI call 2 ms


def default_token(state_dir: str) -> str | None:
    """The local daemon's admin token, when this user can read it."""
    try:
        with open(admin_token_path(state_dir)) as f:
            return f.read().strip() or None
    except OSError:
        return None


def missing_token_message(state_dir: str) -> str:
    """What to say when the daemon wants a token and the CLI found none."""
    return (f"no API token: none given with --token or ICK_TOKEN, and none readable at "
            f"{admin_token_path(state_dir)}; set ICK_STATE_DIR to the daemon's state directory "
            "(where admin.token is), or pass --token TOKEN, or set ICK_TOKEN")


def quote_name(name: str) -> str:
    """A project or pipeline name in a path: '/' stays literal, the rest is escaped."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in name.encode())


# What a path keeps as it is (RFC 3986 unreserved, and '/'); urllib.parse costs a CLI call
# more to import than this takes to write.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")


class Url:
    """A daemon's address: http or https, a host, a port, perhaps a path prefix."""

    def __init__(self, url: str) -> None:
        scheme, sep, rest = url.partition("://")
        netloc, _, path = rest.partition("/")
        host, port = netloc, ""
        if netloc.rfind(":") > netloc.rfind("]"):
            host, _, port = netloc.rpartition(":")
        host = host.strip("[]")
        if (not sep or scheme.lower() not in ("http", "https") or not host or "@" in netloc
                or not (port.isascii() and port.isdigit() or port == "")
                or any(c in rest for c in "?#")):
            raise ClientError(f"bad daemon url {url!r}: expected http://HOST:PORT")
        self.scheme = scheme.lower()
        self.hostname = host
        self.port = int(port) if port else None
        if self.port is not None and not 0 < self.port < 65536:
            raise ClientError(f"bad daemon url {url!r}: expected http://HOST:PORT")
        self.path = "/" + path if path else ""


class Client:
    def __init__(self, url: str, token: str | None, timeout: float = 60.0,
                 no_token_message: str | None = None) -> None:
        parsed = Url(url)
        self.url = url.rstrip("/")
        self.parsed = parsed
        self.token = token
        self.timeout = timeout
        self.no_token_message = no_token_message

    def _connection(self, timeout: float | None) -> http.client.HTTPConnection:
        import http.client  # here: streams and https only (see ick.cli.rawhttp)

        cls = (http.client.HTTPSConnection if self.parsed.scheme == "https"
               else http.client.HTTPConnection)
        return cls(self.parsed.hostname or "", self.parsed.port, timeout=timeout)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def open(
        self, method: str, path: str, body: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None, timeout: float | None = -1.0,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send a request; return the connection and the response (status checked)."""
        import http.client
        conn = self._connection(self.timeout if timeout == -1.0 else timeout)
        prefix = self.parsed.path.rstrip("/")
        try:
            conn.request(method, prefix + path, body=body, headers=self._headers(headers))
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:  # refused, reset, no such host
            conn.close()
            raise ClientError(f"cannot reach ick at {self.url}: {_reason(e)}") from None
        if response.status >= 400:
            data = _read_all(self.url, conn, response)
            self._raise_for(response.status, response.reason, data)
        return conn, response

    def _raise_for(self, status: int, reason: str, data: bytes) -> None:
        try:
            message = json.loads(data)["error"]
        except (ValueError, KeyError, TypeError):
            message = data.decode(errors="replace").strip() or reason
        if status == 401 and not self.token and self.no_token_message:
            message = self.no_token_message
        raise ApiError(status, str(message))

    def call(self, method: str, path: str, doc: Any = None,
             timeout: float | None = -1.0) -> Any:
        """One JSON request; `timeout` None waits as long as the daemon takes (a prune)."""
        body = None if doc is None else json.dumps(doc).encode()
        headers = {"Content-Type": "application/json"} if body is not None else None
        if self.parsed.scheme == "http":
            data = self._call_raw(method, path, body, headers, timeout)
        else:
            conn, response = self.open(method, path, body, headers, timeout=timeout)
            data = _read_all(self.url, conn, response)
        if not data:
            return None
        try:
            return json.loads(data)
        except ValueError:
            raise ClientError(f"{self.url}{path}: the daemon's answer is not JSON") from None

    def _call_raw(self, method: str, path: str, body: bytes | None,
                  headers: dict[str, str] | None, timeout: float | None) -> bytes:
        from ick.cli.rawhttp import request

        try:
            status, reason, data = request(
                self.parsed.hostname or "", self.parsed.port or 80, method,
                self.parsed.path.rstrip("/") + path, self._headers(headers), body,
                self.timeout if timeout == -1.0 else timeout)
        except OSError as e:
            raise ClientError(f"cannot reach ick at {self.url}: {e}") from None
        except ValueError:
            raise ClientError(f"{self.url}{path}: the daemon's answer is not HTTP") from None
        if status >= 400:
            self._raise_for(status, reason, data)
        return data

    def stream(self, path: str, timeout: float | None = None) -> Iterator[bytes]:
        """A GET's body as it arrives (a log being followed)."""
        if self.parsed.scheme == "http":
            yield from self._stream_raw(path, timeout)
            return
        import http.client

        conn, response = self.open("GET", path, timeout=timeout)
        try:
            while chunk := response.read1(65536):
                yield chunk
        except (TimeoutError, ConnectionError, OSError, http.client.HTTPException) as e:
            raise ClientError(f"lost the connection to ick at {self.url}: {_reason(e)}") from None
        finally:
            conn.close()

    def _stream_raw(self, path: str, timeout: float | None) -> Iterator[bytes]:
        from ick.cli.rawhttp import stream

        try:
            answer = stream(self.parsed.hostname or "", self.parsed.port or 80, "GET",
                            self.parsed.path.rstrip("/") + path, self._headers(), timeout)
        except OSError as e:
            raise ClientError(f"cannot reach ick at {self.url}: {e}") from None
        except ValueError:
            raise ClientError(f"{self.url}{path}: the daemon's answer is not HTTP") from None
        try:
            if answer.status >= 400:
                self._raise_for(answer.status, answer.reason, b"".join(answer.body()))
            yield from answer.body()
        except OSError as e:
            raise ClientError(f"lost the connection to ick at {self.url}: "
                              f"{str(e) or type(e).__name__}") from None
        except ValueError:
            raise ClientError(f"{self.url}{path}: the daemon's answer is not HTTP") from None
        finally:
            answer.close()


def _reason(e: BaseException) -> str:
    """What went wrong, in words: IncompleteRead's own text is a byte count in parentheses."""
    import http.client  # loaded already by whoever raised it, or cheap enough on an error
    if isinstance(e, http.client.IncompleteRead):
        return "the daemon went away in the middle of its answer"
    if isinstance(e, http.client.RemoteDisconnected):
        return "the daemon closed the connection without answering"
    return str(e) or type(e).__name__


def _read_all(url: str, conn: http.client.HTTPConnection,
              response: http.client.HTTPResponse) -> bytes:
    """The whole body of the answer; the daemon dying half-way is a ClientError (exit 3)."""
    import http.client
    try:
        return response.read()
    except (TimeoutError, ConnectionError, OSError, http.client.HTTPException) as e:
        raise ClientError(f"lost the connection to ick at {url}: {_reason(e)}") from None
    finally:
        conn.close()
