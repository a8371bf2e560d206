"""Configuration: the example documents every key; every bad key is named, all in one run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from maildesk.config import (
    Settings,
    config_problems,
    load_settings,
    parse_settings,
    read_config,
    validate_settings,
)
from maildesk.config_checks import weak_secret
from maildesk.errors import ConfigError

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    found = []
    for name, field in model.model_fields.items():
        if name == "base_dir":
            continue
        annotation: Any = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += _keys(annotation, f"{name}.")
        elif isinstance(inner, type) and issubclass(inner, BaseModel):
            found += _keys(inner, f"{name}.")
        else:
            found.append(prefix + name)
    return found


def test_the_example_config_documents_every_setting() -> None:
    text = EXAMPLE.read_text()
    missing = [
        k
        for k in _keys(Settings)
        if not re.search(rf"^#? ?({k.split('.')[-1]} =|\[\[{k}\]\])", text, re.M)
    ]
    assert missing == []


def test_the_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(EXAMPLE)
    assert settings.desk.address == "support@example.com"
    assert settings.effective_queues()[0].name == "general"


def test_each_bad_key_is_named() -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings({"desk": {"adress": "x"}, "smtp": {"port": "high"}}, Path("."))
    assert "desk.adress: unknown key" in str(error.value)
    assert "smtp.port:" in str(error.value)


def test_an_agent_naming_an_unknown_queue_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown queue 'sales'"):
        parse_settings({"agents": [{"email": "a@example.com", "queues": ["sales"]}]}, Path("."))


def test_relative_sqlite_paths_are_anchored_at_the_config_folder(tmp_path: Path) -> None:
    settings = parse_settings({"database": {"url": "sqlite:///var/x.db"}}, tmp_path)
    assert settings.database_url() == f"sqlite:///{tmp_path.resolve()}/var/x.db"


def test_the_desk_time_zone_is_an_iana_zone_and_a_bad_one_is_named() -> None:
    settings = parse_settings({"desk": {"timezone": "Europe/Berlin"}}, Path("."))
    assert settings.desk.zone.key == "Europe/Berlin"
    assert parse_settings({}, Path(".")).desk.zone.key == "UTC"

    with pytest.raises(ConfigError) as error:
        parse_settings({"desk": {"timezone": "Mars/Olympus_Mons"}}, Path("."))
    assert "desk.timezone: unknown time zone 'Mars/Olympus_Mons'" in str(error.value)


# --- the service desk sections ---------------------------------------------------------------


def test_services_categories_and_assignment_have_documented_defaults() -> None:
    settings = parse_settings(
        {
            "queues": [{"name": "general", "addresses": ["Support@Example.com"]}],
            "agents": [{"email": "bob@example.com", "queues": ["general"]}],
            "services": [{"name": "email", "queue": "general"}],
            "categories": [
                {"name": "premium", "domains": ["BigCorp.Example"], "organisations": ["ACME"]}
            ],
        },
        Path("."),
    )

    [service] = settings.services
    assert (service.type, service.priority, service.description) == ("incident", "normal", "")
    assert settings.queues[0].assignment == "none"
    assert settings.agents[0].calendar is None
    assert settings.categories[0].domains == ("bigcorp.example",)
    assert settings.categories[0].organisations == ("acme",)
    assert (settings.calendars, settings.rules) == ((), ())


def test_calendars_and_rules_are_kept_as_written_for_their_own_modules() -> None:
    calendar = {"name": "office", "timezone": "Europe/Berlin", "hours": {"mon": ["09:00-17:00"]}}
    rule = {"name": "vip", "when": {"category": "premium"}, "then": {"priority": "high"}}

    settings = parse_settings({"calendars": [calendar], "rules": [rule]}, Path("."))

    assert (settings.calendars, settings.rules) == ((calendar,), (rule,))


def test_an_agent_may_name_a_declared_calendar_or_24x7() -> None:
    settings = parse_settings(
        {
            "calendars": [{"name": "office"}],
            "agents": [
                {"email": "a@example.com", "calendar": "office"},
                {"email": "b@example.com", "calendar": "24x7"},
            ],
        },
        Path("."),
    )

    assert [a.calendar for a in settings.agents] == ["office", "24x7"]


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (
            {"queues": [{"name": "general"}, {"name": "general"}]},
            "queues[1].name: 'general' is already taken by queues[0]",
        ),
        (
            {
                "queues": [
                    {"name": "general", "addresses": ["support@example.com"]},
                    {"name": "billing", "addresses": ["Support@Example.com"]},
                ]
            },
            "queues[1].addresses: support@example.com is already an address of queues[0]",
        ),
        (
            {"queues": [{"name": "general", "assignment": "random"}]},
            "queues[0].assignment: Input should be 'none', 'least-loaded' or 'round-robin'",
        ),
        (
            {"agents": [{"email": "a@example.com", "queues": ["sales"]}]},
            "agents[0].queues: unknown queue 'sales' (queues: general)",
        ),
        (
            {"agents": [{"email": "a@example.com"}, {"email": "A@example.com"}]},
            "agents[1].email: 'A@example.com' is already taken by agents[0]",
        ),
        (
            {"agents": [{"email": "a@example.com", "calendar": "office"}]},
            "agents[0].calendar: unknown calendar 'office' (calendars: 24x7)",
        ),
        (
            {"services": [{"name": "email", "queue": "sales"}]},
            "services[0].queue: unknown queue 'sales' (queues: general)",
        ),
        ({"services": [{"name": "email"}]}, "services[0].queue: Field required"),
        (
            {"services": [{"name": "email", "queue": "general", "type": "question"}]},
            "services[0].type: Input should be 'incident' or 'request'",
        ),
        (
            {"services": [{"name": "e", "queue": "general"}, {"name": "e", "queue": "general"}]},
            "services[1].name: 'e' is already taken by services[0]",
        ),
        (
            {"categories": [{"name": "vip"}, {"name": "vip"}]},
            "categories[1].name: 'vip' is already taken by categories[0]",
        ),
        (
            {"categories": [{"name": "Standard"}]},
            "categories[0].name: 'Standard' is reserved"
            " (the category of a contact no category matches)",
        ),
        (
            {"imap": [{"name": "m", "username": "u", "tls": True, "starttls": True}]},
            "imap[0]: tls and starttls are exclusive",
        ),
        ({"outbound": {"tls": True, "starttls": True}}, "outbound: tls and starttls are exclusive"),
        (
            {"outbound": {"connections": 0}},
            "outbound.connections: Input should be greater than or equal to 1",
        ),
        (
            {"outbound": {"connections": "many"}},
            "outbound.connections: Input should be a valid integer, unable to parse string as an"
            " integer",
        ),
        (
            {"reports": [{"report": "sla", "every": "mondays 8am", "to": ["l@example.com"]}]},
            "reports[0].every: 'mondays 8am' is not 'DAY HH:MM' (e.g. 'monday 08:00', '1st 08:00')",
        ),
        (
            {"reports": [{"report": "sla", "every": "31st 08:00", "to": ["l@example.com"]}]},
            "reports[0].every: '31st 08:00': the day must be 'daily', a weekday,"
            " or a day of the month from 1st to 28th",
        ),
        (
            {"reports": [{"report": "speed", "every": "daily 08:00", "to": ["l@example.com"]}]},
            "reports[0].report: Input should be 'summary', 'sla', 'agents', 'customers',"
            " 'ratings', 'volume' or 'backlog'",
        ),
        (
            {"reports": [{"report": "sla", "every": "daily 08:00", "to": []}]},
            "reports[0].to: Tuple should have at least 1 item after validation, not 0",
        ),
        (
            {"reports": [{"report": "sla", "every": "daily 08:00", "to": ["lead"]}]},
            "reports[0].to: 'lead' is not an e-mail address",
        ),
        (
            {
                "reports": [
                    {
                        "report": "sla",
                        "every": "daily 08:00",
                        "to": ["l@x.example"],
                        "queue": "sales",
                    }
                ]
            },
            "reports[0].queue: unknown queue 'sales' (queues: general)",
        ),
        (
            {"lifecycle": {"pending_reminder": "10d", "pending_close": "10d"}},
            "lifecycle: pending_reminder must be shorter than pending_close"
            " (a ticket closed first is never reminded)",
        ),
        (
            {"metrics": {"port": 70000}},
            "metrics.port: Input should be less than or equal to 65535",
        ),
        (
            {"metrics": {"enabled": True, "port": 2525}},
            "metrics.port: 2525 on 127.0.0.1 is already the SMTP listener's (smtp.port)",
        ),
        (
            {"lmtp": {"enabled": True, "port": 9469}, "metrics": {"enabled": True}},
            "metrics.port: 9469 on 127.0.0.1 is already the LMTP listener's (lmtp.port)",
        ),
        ({"logging": {"format": "xml"}}, "logging.format: Input should be 'text' or 'json'"),
    ],
)
def test_each_kind_of_mistake_is_named_by_its_dotted_key(data: dict[str, Any], line: str) -> None:
    settings, problems = validate_settings(data, Path("."))

    assert (settings, problems) == (None, [line])
    with pytest.raises(ConfigError, match=re.escape(line)):
        parse_settings(data, Path("."))


MANY_MISTAKES = """\
[desk]
address = "support@example.com"
secret = "change-me"
colour = "blue"

[smtp]
port = 70000

[[imap]]
name = "main"
tls = true
starttls = true

[[imap]]
name = "main"
username = "desk@example.com"

[[queues]]
name = "general"
addresses = ["support@example.com"]
assignment = "random"

[[queues]]
name = "billing"
addresses = ["Support@example.com"]

[[agents]]
email = "bob@example.com"
queues = ["sales"]
calendar = "office"

[[calendars]]
name = "weekdays"

[[services]]
name = "email"
queue = "helpdesk"
type = "question"

[[services]]
name = "email"
queue = "billing"

[[categories]]
name = "standard"
"""


def test_every_mistake_of_a_file_is_named_in_one_run(tmp_path: Path) -> None:
    path = tmp_path / "maildesk.toml"
    path.write_text(MANY_MISTAKES)

    settings, problems = config_problems(read_config(path), tmp_path)

    assert settings is None
    assert problems == [
        # fields, as pydantic reports them
        "desk.colour: unknown key",
        "smtp.port: Input should be less than or equal to 65535",
        "imap[0].username: Field required",
        "queues[0].assignment: Input should be 'none', 'least-loaded' or 'round-robin'",
        "services[0].type: Input should be 'incident' or 'request'",
        # between sections, checked even though fields above are invalid
        "queues[1].addresses: support@example.com is already an address of queues[0]",
        "agents[0].queues: unknown queue 'sales' (queues: general, billing)",
        "agents[0].calendar: unknown calendar 'office' (calendars: 24x7, weekdays)",
        "imap[1].name: 'main' is already taken by imap[0]",
        "imap[0]: tls and starttls are exclusive",
        "services[1].name: 'email' is already taken by services[0]",
        "services[0].queue: unknown queue 'helpdesk' (queues: general, billing)",
        "categories[0].name: 'standard' is reserved"
        " (the category of a contact no category matches)",
        # and the secret, though [desk] has an unknown key
        "desk.secret: too weak, a well-known placeholder"
        " (whoever guesses it can forge reply addresses)",
    ]
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert str(error.value) == "; ".join(problems[:-1])  # a weak secret does not stop loading


# --- the desk secret ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("s3cret", "shorter than 16 characters"),
        ("Change-Me", "a well-known placeholder"),
        ("change-me-please-now", "a well-known placeholder"),
        ("SECRET", "a well-known placeholder"),
        ("abababababababababab", "fewer than 8 different characters"),
        ("kx4-Rt9w_Lq2Zp7yHv3N", None),
    ],
)
def test_a_weak_secret_is_named_with_the_reason(secret: str, why: str | None) -> None:
    assert weak_secret(secret) == why


def test_a_weak_secret_fails_the_check_but_the_desk_still_loads() -> None:
    data = {"desk": {"secret": "s3cret", "old_secrets": ["kx4-Rt9w_Lq2Zp7yHv3N", "older"]}}

    settings, problems = config_problems(data, Path("."))

    assert settings is not None and settings.desk.secret == "s3cret"
    assert problems == [
        "desk.secret: too weak, shorter than 16 characters"
        " (whoever guesses it can forge reply addresses)",
        "desk.old_secrets[1]: too weak, shorter than 16 characters"
        " (whoever guesses it can forge reply addresses)",
    ]


def test_a_secret_from_the_environment_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"desk": {"secret_env": "DESK_SECRET_FOR_TEST"}}
    monkeypatch.delenv("DESK_SECRET_FOR_TEST", raising=False)
    assert config_problems(data, Path("."))[1] == [
        "desk.secret: not set (set $DESK_SECRET_FOR_TEST or desk.secret)"
    ]

    monkeypatch.setenv("DESK_SECRET_FOR_TEST", "password")

    assert config_problems(data, Path("."))[1] == [
        "desk.secret_env: $DESK_SECRET_FOR_TEST: too weak, a well-known placeholder"
        " (whoever guesses it can forge reply addresses)"
    ]


def test_metrics_are_off_by_default_on_loopback_and_logging_takes_any_case() -> None:
    defaults = parse_settings({}, Path("."))
    assert (defaults.metrics.enabled, defaults.metrics.host, defaults.metrics.port) == (
        False,
        "127.0.0.1",
        9469,
    )
    assert (defaults.logging.level, defaults.logging.format) == ("INFO", "text")

    chosen = parse_settings({"logging": {"level": "debug", "format": "JSON"}}, Path("."))
    assert (chosen.logging.level, chosen.logging.format) == ("DEBUG", "json")


def test_metrics_beside_smtp_on_another_port_or_host_are_fine() -> None:
    for metrics in ({"enabled": True}, {"enabled": True, "port": 2525, "host": "10.0.0.5"}):
        assert validate_settings({"metrics": metrics}, Path("."))[1] == []
    assert validate_settings({"metrics": {"port": 2525}}, Path("."))[1] == []  # not enabled
