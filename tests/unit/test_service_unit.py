"""contrib/maildesk.service: the systemd unit runs `maildesk run` as its own user, sandboxed,
with secrets from an environment file and the schema upgraded before each start."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

UNIT = Path(__file__).parents[2] / "contrib" / "maildesk.service"


@pytest.fixture(scope="module")
def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_the_unit_has_its_three_sections_and_starts_at_boot(
    unit: configparser.ConfigParser,
) -> None:
    assert unit.sections() == ["Unit", "Service", "Install"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in unit["Unit"]["After"].split()


def test_it_runs_the_daemon_after_upgrading_the_schema(unit: configparser.ConfigParser) -> None:
    service = unit["Service"]
    start, before = shlex.split(service["ExecStart"]), shlex.split(service["ExecStartPre"])

    assert Path(start[0]).name == "maildesk" and start[1:] == ["run"]
    assert before == [start[0], "db", "upgrade"]
    assert service["Environment"] == "MAILDESK_CONFIG=/etc/maildesk/maildesk.toml"


def test_secrets_come_from_an_optional_environment_file(unit: configparser.ConfigParser) -> None:
    assert unit["Service"]["EnvironmentFile"] == "-/etc/maildesk/env"


def test_it_stops_on_sigterm_and_restarts_after_a_failure(unit: configparser.ConfigParser) -> None:
    service = unit["Service"]
    assert (service["KillSignal"], service["Restart"]) == ("SIGTERM", "on-failure")
    # longer than the SMTP listener's default grace for mail in DATA (30 s)
    assert int(service["TimeoutStopSec"]) > 30


def test_it_runs_sandboxed_as_its_own_user_writing_only_its_state_folder(
    unit: configparser.ConfigParser,
) -> None:
    service = unit["Service"]
    assert (service["User"], service["Group"]) == ("maildesk", "maildesk")
    for key, value in {
        "NoNewPrivileges": "true",
        "ProtectSystem": "strict",
        "ProtectHome": "true",
        "PrivateTmp": "true",
        "PrivateDevices": "true",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[key] == value, key
    assert service["ReadWritePaths"] == f"/var/lib/{service['StateDirectory']}"
    assert service["WorkingDirectory"] == service["ReadWritePaths"]
