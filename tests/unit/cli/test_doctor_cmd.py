"""`maildesk doctor [--json]`: one line per finding with what to do; exit 1 only on an error."""

from __future__ import annotations

import json

import pytest

from maildesk.cli import doctor_cmd
from maildesk.doctor.findings import Probe
from tests.unit.cli.conftest import SECRET, Shell


def mx_answers(monkeypatch: pytest.MonkeyPatch, *hosts: str) -> None:
    monkeypatch.setattr(doctor_cmd, "PROBE", Probe(lookup_mx=lambda _d, _t: list(hosts)))


def mx_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    def lookup(_domain: str, _timeout: float) -> list[str]:
        raise TimeoutError

    monkeypatch.setattr(doctor_cmd, "PROBE", Probe(lookup_mx=lookup))


def test_a_sound_desk_is_all_ok_one_line_per_check(
    shell: Shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    mx_answers(monkeypatch, "mx.example.com")

    result = shell.run(doctor_cmd, "doctor")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["ok", "database:"],
        ["ok", "secret:"],
        ["ok", "templates:"],
        ["ok", "imap:"],
        ["ok", "relay:"],
        ["ok", "mx:"],
    ]


def test_only_a_warning_still_exits_0(shell: Shell, monkeypatch: pytest.MonkeyPatch) -> None:
    mx_times_out(monkeypatch)

    result = shell.run(doctor_cmd, "doctor")

    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].startswith(
        "warning mx: could not check example.com: no DNS answer within 2 s -> "
    )


def test_a_weak_secret_and_an_unmigrated_database_fail_with_what_to_do(
    shell: Shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    mx_answers(monkeypatch, "mx.example.com")
    shell.config.write_text(shell.config.read_text().replace(SECRET, "changeme"))
    (shell.config.parent / "var" / "maildesk.db").unlink()
    (shell.config.parent / "var" / "maildesk.db").touch()

    result = shell.run(doctor_cmd, "doctor")

    assert result.exit_code == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("error")]
    assert len(errors) == 2
    assert errors[0].endswith("-> run maildesk db upgrade")
    assert errors[1].startswith("error   secret: desk.secret: too weak, a well-known placeholder")


def test_json_has_the_worst_level_and_each_finding_with_stable_keys(
    shell: Shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    mx_answers(monkeypatch)  # no MX at all

    result = shell.run(doctor_cmd, "doctor", "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["status"] == "error"
    assert all(set(f) == {"check", "level", "message", "fix"} for f in report["findings"])
    [mx] = [f for f in report["findings"] if f["check"] == "mx"]
    assert (mx["level"], mx["message"]) == (
        "error",
        "example.com has no MX record: mail to the desk cannot arrive",
    )
