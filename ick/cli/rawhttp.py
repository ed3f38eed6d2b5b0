"""One HTTP/1.1 request over a plain socket, for the CLI's JSON calls to an http:// daemon.

http.client imports ssl and the email package, which cost a CLI call more than all the rest
of what `ick trigger` does; a JSON request and its answer need none of that.
"""

from __future__ import annotations

import _socket  # not socket: that imports selectors and more for what one request needs


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


def request(host: str, port: int, method: str, target: str, headers: dict[str, str],
            body: bytes | None, timeout: float | None) -> tuple[int, str, bytes]:
    """Send one request (the connection closes after it); the status, reason and body.

    Raises OSError (TimeoutError, ConnectionError...) when the daemon cannot be reached, and
    ValueError when what came back is not HTTP."""
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
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    finally:
        sock.close()
    head, sep, data = b"".join(chunks).partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("no HTTP answer")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    _, status, reason = (status_line.split(" ", 2) + [""])[:3]
    fields = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    if fields.get("transfer-encoding", "").lower() == "chunked":
        data = _dechunk(data)
    elif "content-length" in fields:
        data = data[:int(fields["content-length"])]
    return int(status), reason, data
