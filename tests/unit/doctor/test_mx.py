"""The MX check: a desk domain without MX cannot get mail; a lookup that cannot be made is
only a warning."""

from __future__ import annotations

from pathlib import Path

from maildesk.config import Settings
from maildesk.doctor.findings import Level, MxLookup, Probe
from maildesk.doctor.mx import check
from tests.conftest import make_settings


def desk(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, "sqlite:///unused.db", desk={"address": "help@desk.example"})


def probe(lookup: MxLookup) -> Probe:
    return Probe(lookup_mx=lookup)


def test_a_domain_with_mx_hosts_is_ok_and_names_them(tmp_path: Path) -> None:
    asked: list[tuple[str, float]] = []

    def lookup(domain: str, timeout: float) -> list[str]:
        asked.append((domain, timeout))
        return ["mx1.desk.example", "mx2.desk.example"]

    [finding] = check(desk(tmp_path), probe(lookup))

    assert asked == [("desk.example", 2.0)]
    assert finding.level is Level.OK
    assert finding.message == "desk.example mail goes to mx1.desk.example, mx2.desk.example"


def test_no_mx_or_a_null_mx_is_an_error(tmp_path: Path) -> None:
    for hosts in ([], [""]):
        [finding] = check(desk(tmp_path), probe(lambda _d, _t, hosts=hosts: hosts))

        assert finding.level is Level.ERROR
        assert "desk.example has no MX record" in finding.message
        assert "publish an MX record" in finding.fix


def test_a_resolver_that_times_out_or_cannot_be_reached_is_a_warning(tmp_path: Path) -> None:
    def times_out(_domain: str, _timeout: float) -> list[str]:
        raise TimeoutError

    def unreachable(_domain: str, _timeout: float) -> list[str]:
        raise OSError("no nameserver in /etc/resolv.conf")

    [late] = check(desk(tmp_path), probe(times_out))
    [unknown] = check(desk(tmp_path), probe(unreachable))

    assert (late.level, late.message) == (
        Level.WARNING,
        "could not check desk.example: no DNS answer within 2 s",
    )
    assert unknown.level is Level.WARNING
    assert unknown.message == "could not check desk.example: no nameserver in /etc/resolv.conf"
