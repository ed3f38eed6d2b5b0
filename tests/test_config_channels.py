"""The notification channels' daemon settings in ick.yaml (ick/config.py): `matrix:` and
`irc:`, read and refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from ick.config import IrcSettings, MatrixSettings, Settings, load_settings
from ick.errors import InputError


def settings_from(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "ick.yaml"
    path.write_text(text)
    return load_settings(str(path), {}, {})


def test_matrix_and_irc_are_read_and_absent_by_default(tmp_path: Path) -> None:
    default = load_settings(None, {}, {})
    assert (default.matrix, default.irc) == (None, None)
    given = settings_from(tmp_path, """
matrix: {homeserver: "https://matrix.example.org/", token_file: /etc/ick/matrix-token}
irc: {server: "irc.example.org:6697", tls: true, nick: ick-ci, password_file: /etc/ick/irc}
""")
    assert given.matrix == MatrixSettings("https://matrix.example.org", "/etc/ick/matrix-token")
    assert given.irc == IrcSettings("irc.example.org", 6697, True, "ick-ci", "/etc/ick/irc")
    assert given.irc.server == "irc.example.org:6697"
    plain = settings_from(tmp_path, "irc: {server: '[::1]:6667'}\n")
    assert plain.irc == IrcSettings("::1", 6667, False, "ick", None)


@pytest.mark.parametrize(("text", "message"), [
    ("matrix: yes\n", "matrix: expected a mapping"),
    ("matrix: {homeserver: matrix.example.org, token_file: /t}\n",
     "matrix: homeserver: expected an http or https url"),
    ("matrix: {homeserver: 'https://m.example.org'}\n",
     "matrix: token_file: expected the path of a file holding the access token"),
    ("matrix: {homeserver: 'https://m.example.org', token_file: /t, token: x}\n",
     "matrix: unknown key 'token' (expected one of: homeserver, token_file)"),
    ("irc: {server: irc.example.org}\n", "irc: server: expected HOST:PORT"),
    ("irc: {server: 'irc.example.org:70000'}\n", "irc: server: expected HOST:PORT"),
    ("irc: {server: 'h:6667', tls: 'yes'}\n", "irc: tls: expected true or false"),
    ("irc: {server: 'h:6667', nick: '9lives'}\n",
     "irc: nick: expected a nickname of letters, digits and []\\`_^{|}- (not starting with a "
     "digit or -), at most 30"),
    ("irc: {server: 'h:6667', channel: '#x'}\n",
     "irc: unknown key 'channel' (expected one of: nick, password_file, server, tls)"),
])
def test_bad_channel_settings_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        settings_from(tmp_path, text)
    assert info.value.message == f"{tmp_path / 'ick.yaml'}: {message}"
