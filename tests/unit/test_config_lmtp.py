"""The [lmtp] section: off by default, a TCP port or a Unix socket, never the SMTP port."""

from __future__ import annotations

import tomllib
from pathlib import Path

from maildesk.config import parse_settings, validate_settings

DESK = {"desk": {"address": "support@example.com", "secret": "k3y-for-t3sts-0nly!"}}


def test_lmtp_is_off_by_default_and_listens_on_2424_when_on() -> None:
    lmtp = parse_settings(DESK, Path(".")).lmtp

    assert (lmtp.enabled, lmtp.host, lmtp.port, lmtp.socket) == (False, "127.0.0.1", 2424, None)
    assert lmtp.socket_mode == 0o660


def test_a_socket_mode_is_written_in_octal_and_the_socket_is_relative_to_the_config() -> None:
    data = tomllib.loads('[lmtp]\nenabled = true\nsocket = "var/lmtp.sock"\nsocket_mode = 0o666\n')

    settings = parse_settings({**DESK, **data}, Path("/srv/desk"))

    assert settings.lmtp.socket_mode == 0o666
    assert settings.path(settings.lmtp.socket or "") == Path("/srv/desk/var/lmtp.sock")


def test_lmtp_on_the_smtp_port_is_named() -> None:
    data = {**DESK, "smtp": {"port": 2500}, "lmtp": {"enabled": True, "port": 2500}}

    _, problems = validate_settings(data, Path("."))

    assert problems == ["lmtp.port: 2500 on 127.0.0.1 is already the SMTP listener's (smtp.port)"]


def test_the_same_port_is_fine_on_a_socket_or_with_either_listener_off() -> None:
    on_socket = {"smtp": {"port": 2424}, "lmtp": {"enabled": True, "socket": "lmtp.sock"}}
    smtp_off = {"smtp": {"enabled": False, "port": 2424}, "lmtp": {"enabled": True}}
    lmtp_off = {"smtp": {"port": 2424}}

    for data in (on_socket, smtp_off, lmtp_off):
        assert validate_settings({**DESK, **data}, Path("."))[1] == []


def test_a_socket_mode_beyond_permission_bits_is_named() -> None:
    _, problems = validate_settings({**DESK, "lmtp": {"socket_mode": 0o4777}}, Path("."))

    assert problems == ["lmtp.socket_mode: Input should be less than or equal to 511"]
