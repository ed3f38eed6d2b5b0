"""One HTTP/1.1 request over a plain socket, for the CLI's calls to an http:// daemon: a JSON
request read whole (`request`), or a log read as it comes (`stream`).

http.client imports ssl and the email package, which cost a CLI call more than all the rest
of what `ick trigger` does; a JSON request, a log and their answers need none of that.
"""

from __future__ import annotations

import _socket  # not socket: that imports selectors and more for what one request needs
from collections.abc import Iterator

GONE = "the daemon went away in the middle of its answer"


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2:]
    return bytes(out)


def _send(host: str, port: int, method: str, target: str, headers: dict[str, str],
          body: bytes | None, timeout: float | None) -> _socket.socket:
    """A connected socket with the request sent on it (the connection closes after it)."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
             f"Content-Length: {len(body or b'')}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    # An ASCII host as bytes: a str would load the idna codec, and with it re.
    name: str | bytes = host.encode() if host.isascii() else host
    family, kind, proto, _, address = _socket.getaddrinfo(name, port, 0,
                                                          _socket.SOCK_STREAM)[0]
    sock = _socket.socket(family, kind, proto)
    try:
        sock.settimeout(timeout)
        sock.connect(address)
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
    except BaseException:
        sock.close()
        raise
    return sock


def _parse_head(head: bytes) -> tuple[int, str, dict[str, str]]:
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    _, status, reason = (status_line.split(" ", 2) + [""])[:3]
    fields = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return int(status), reason, fields


def request(host: str, port: int, method: str, target: str, headers: dict[str, str],
            body: bytes | None, timeout: float | None) -> tuple[int, str, bytes]:
    """Send one request; the status, reason and body.

    Raises OSError (TimeoutError, ConnectionError...) when the daemon cannot be reached, and
    ValueError when what came back is not HTTP."""
    sock = _send(host, port, method, target, headers, body, timeout)
    try:
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    finally:
        sock.close()
    head, sep, data = b"".join(chunks).partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("no HTTP answer")
    status, reason, fields = _parse_head(head)
    if fields.get("transfer-encoding", "").lower() == "chunked":
        data = _dechunk(data)
    elif "content-length" in fields:
        data = data[:int(fields["content-length"])]
    return status, reason, data


class Stream:
    """An answer whose body is read as it arrives: `status`, `reason`, then `body()`."""

    def __init__(self, sock: _socket.socket) -> None:
        self._sock = sock
        data = b""
        while b"\r\n\r\n" not in data:
            more = sock.recv(65536)
            if not more:
                raise ValueError("no HTTP answer")
            data += more
        head, _, self._rest = data.partition(b"\r\n\r\n")
        self.status, self.reason, self._fields = _parse_head(head)

    def _recv(self) -> bytes:
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionError(GONE)
        return data

    def body(self) -> Iterator[bytes]:
        """The body's bytes as they come; ConnectionError if the daemon goes before its end."""
        if self._fields.get("transfer-encoding", "").lower() == "chunked":
            yield from self._chunked()
            return
        length = self._fields.get("content-length")
        left = int(length) if length is not None else None
        data = self._rest
        while True:
            if left is not None:
                data = data[:left]
                left -= len(data)
            if data:
                yield data
            if left == 0:
                return
            data = self._sock.recv(65536)
            if not data:
                if left is not None:
                    raise ConnectionError(GONE)
                return  # no length given: the answer ends where the connection does

    def _chunked(self) -> Iterator[bytes]:
        data = self._rest
        while True:
            while b"\r\n" not in data:
                data += self._recv()
            size_line, _, data = data.partition(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                return
            while len(data) < size + 2:
                data += self._recv()
            yield data[:size]
            data = data[size + 2:]

    def close(self) -> None:
        self._sock.close()


def stream(host: str, port: int, method: str, target: str, headers: dict[str, str],
           timeout: float | None) -> Stream:
    """Send one request and read the answer's head; the caller reads its body and closes it.

    Raises as `request` does."""
    sock = _send(host, port, method, target, headers, None, timeout)
    try:
        return Stream(sock)
    except BaseException:
        sock.close()
        raise
