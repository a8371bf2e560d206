"""The doctor's checks of what lives on this machine: the database, the secret, the templates;
and the table that runs every check even when one crashes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from maildesk.app import open_app
from maildesk.config import Settings
from maildesk.db import head_revision, unit_of_work
from maildesk.doctor import database, secret, templates
from maildesk.doctor.findings import Finding, Level, Probe, error, worst
from maildesk.doctor.run import diagnose
from maildesk.doctor.table import CHECKS
from maildesk.services.agent_loads import recount_loads
from tests.conftest import make_settings

STRONG = "kx4-Rt9w_Lq2Zp7yHv3N"
PROBE = Probe(lookup_mx=lambda _domain, _timeout: ["mx.example.com"])


def only(findings: list[Finding]) -> Finding:
    [finding] = findings
    return finding


def test_a_migrated_database_is_ok_on_either_database(settings: Settings) -> None:
    found = only(database.check(settings, PROBE))

    assert (found.level, found.message) == (Level.OK, f"connected, schema at {head_revision()}")


def test_an_agent_load_that_drifted_is_named_until_it_is_recounted(settings: Settings) -> None:
    app = open_app(settings)  # the configured agents, as the daemon syncs them
    with app.engine.begin() as connection:  # hand-made changes that went around the triggers
        connection.execute(text("UPDATE agent SET open_tickets = 2"))
        connection.execute(text("UPDATE agent SET open_tickets = 0 WHERE email LIKE 'bob%'"))

    found = only(database.check(settings, PROBE))

    assert (found.level, found.fix) == (Level.WARNING, "run maildesk db recount")
    assert found.message == (
        f"schema at {head_revision()}, but agent loads differ from their tickets:"
        " alice@example.com 2 stored, 0 counted"
    )
    with unit_of_work(app.engine) as session:
        assert [d.email for d in recount_loads(session)] == ["alice@example.com"]
    app.engine.dispose()
    assert only(database.check(settings, PROBE)).level is Level.OK


def test_a_database_never_migrated_says_to_run_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()

    found = only(database.check(make_settings(tmp_path, f"sqlite:///{path}"), PROBE))

    assert found.level is Level.ERROR
    assert found.message == f"schema at nothing, expected {head_revision()}"
    assert found.fix == "run maildesk db upgrade"


def test_a_database_server_that_is_down_cannot_be_connected_to(
    tmp_path: Path, closed_port: int
) -> None:
    url = f"postgresql+psycopg://maildesk@127.0.0.1:{closed_port}/maildesk"

    found = only(database.check(make_settings(tmp_path, url), PROBE))

    assert found.level is Level.ERROR
    assert found.message.startswith(
        f"cannot connect to postgresql+psycopg://maildesk@127.0.0.1:{closed_port}"
    )


def test_a_short_or_default_looking_secret_is_an_error(tmp_path: Path) -> None:
    url = "sqlite:///unused.db"
    strong = make_settings(tmp_path, url, desk={"secret": STRONG})
    short = make_settings(tmp_path, url, desk={"secret": "s3cr3t"})
    default = make_settings(tmp_path, url, desk={"secret": "change-me-please-change-me"})

    assert only(secret.check(strong, PROBE)).level is Level.OK
    for weak in (short, default):
        found = only(secret.check(weak, PROBE))
        assert found.level is Level.ERROR and "too weak" in found.message
        assert "openssl rand" in found.fix


def test_the_built_in_templates_render_and_a_broken_override_is_named(tmp_path: Path) -> None:
    override = tmp_path / "templates"
    override.mkdir()
    url = "sqlite:///unused.db"
    built_in = make_settings(tmp_path, url)
    (override / "ack.subject.txt").write_text("Re: {{ ticket.ref }\n")  # will not compile
    (override / "ack.txt").write_text("Dear {{ customer.name }}\n")
    (override / "ack.html").write_text("<p>Dear {{ customer.name }}</p>\n")
    broken = make_settings(tmp_path, url, outbound={"templates_dir": "templates"})

    assert only(templates.check(built_in, PROBE)).level is Level.OK
    found = templates.check(broken, PROBE)
    assert found and all(f.level is Level.ERROR for f in found)
    assert any("ack.subject.txt" in f.message for f in found)
    assert all(f.fix == f"fix the template in {override}" for f in found)


def test_every_check_runs_in_table_order_and_a_crash_is_one_error(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, desk={"secret": STRONG})

    def crashes(_settings: Settings, _probe: Probe) -> list[Finding]:
        raise RuntimeError("a bug")

    names = [name for name, _check in CHECKS]
    findings = diagnose(settings, PROBE, (("first", crashes), *CHECKS))

    assert names == ["database", "secret", "templates", "imap", "relay", "mx"]
    assert findings[0] == error("first", "the check failed: RuntimeError: a bug", findings[0].fix)
    assert [f.check for f in findings[1:]] == names
    assert worst(findings) is Level.ERROR and worst(findings[1:]) is Level.OK
