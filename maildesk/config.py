"""TOML configuration → validated, immutable settings objects; fails fast naming the bad key."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from maildesk.config_checks import DEFAULT_QUEUE, cross_problems, weak_secret
from maildesk.config_file import DEFAULT_DATABASE_URL, anchored_url, read_config
from maildesk.errors import ConfigError
from maildesk.models import Priority, TicketType
from maildesk.timing.durations import parse_duration
from maildesk.timing.schedule import Every, parse_every

DEFAULT_FREE_MAIL = [
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "ymail.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "gmx.de",
    "gmx.net",
    "gmx.com",
    "web.de",
    "mail.ru",
    "yandex.ru",
    "yandex.com",
    "proton.me",
    "protonmail.com",
    "zoho.com",
    "mail.com",
    "t-online.de",
    "orange.fr",
    "free.fr",
]


NAME = r"^[A-Za-z0-9_.-]{1,64}$"  # a queue, service or category: one word, as commands name it


def _lower(value: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(item.strip().lower() for item in value)


Lowered = Annotated[tuple[str, ...], AfterValidator(_lower)]  # addresses, domains


def _duration(value: Any) -> Any:
    return parse_duration(value) if isinstance(value, str) else value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _secret(value: str | None, env: str | None) -> str | None:
    if value:
        return value
    if env:
        return os.environ.get(env) or None
    return None


class DeskSettings(_Section):
    name: str = "Support"
    address: str = "support@example.com"
    ticket_prefix: str = Field("TKT", pattern=r"^[A-Z][A-Z0-9]{0,9}$")
    secret: str | None = None
    secret_env: str | None = "MAILDESK_SECRET"
    old_secrets: tuple[str, ...] = ()
    timezone: str = "UTC"
    reopen_window: Duration = timedelta(days=14)
    admit_colleagues: bool = True
    free_mail_domains: tuple[str, ...] = tuple(DEFAULT_FREE_MAIL)
    max_mime_depth: int = Field(100, ge=1, le=500)
    max_received_hops: int = Field(30, ge=5)
    attachments_dir: str = "var/attachments"
    trusted_authserv_id: str | None = None

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        local, sep, domain = value.rpartition("@")
        if not sep or not local or "." not in domain or " " in value:
            raise ValueError(f"not an email address: {value!r}")
        return value.lower()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The desk's time zone: dates and times written without an offset are read in it."""
        return ZoneInfo(self.timezone)

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @property
    def local_part(self) -> str:
        return self.address.rpartition("@")[0]

    def resolved_secret(self) -> str | None:
        return _secret(self.secret, self.secret_env)


class DatabaseSettings(_Section):
    url: str = DEFAULT_DATABASE_URL

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {value!r}") from exc
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {backend!r} (use sqlite or postgresql)")
        return value


class SmtpSettings(_Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(2525, ge=0, le=65535)
    max_message_bytes: int = Field(26214400, ge=1024)
    hostname: str | None = None
    shutdown_grace_seconds: float = Field(30.0, ge=0)


class LmtpSettings(_Section):
    """The LMTP listener; message size, greeting name and drain time are [smtp]'s."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(2424, ge=0, le=65535)
    socket: str | None = Field(None, min_length=1)  # a Unix socket instead of host:port
    socket_mode: int = Field(0o660, ge=0, le=0o777)


class ImapSettings(_Section):
    name: str
    host: str = "127.0.0.1"
    port: int = Field(143, ge=1, le=65535)
    tls: bool = False
    starttls: bool = False
    username: str
    password: str | None = None
    password_env: str | None = None
    folder: str = "INBOX"
    processed_folder: str | None = None
    poll_seconds: float = Field(60.0, gt=0)
    timeout_seconds: float = Field(60.0, gt=0)

    def resolved_password(self) -> str | None:
        return _secret(self.password, self.password_env)


class OutboundSettings(_Section):
    transport: Literal["maildir", "smtp"] = "maildir"
    maildir: str = "var/sent"
    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    password_env: str | None = None
    timeout_seconds: float = Field(60.0, gt=0)
    templates_dir: str | None = None
    ack_limit: int = Field(5, ge=0)
    retry_first: Duration = timedelta(minutes=1)
    retry_max_interval: Duration = timedelta(hours=1)
    give_up_after: Duration = timedelta(days=4)
    poll_seconds: float = Field(10.0, gt=0)
    batch_size: int = Field(50, ge=1)
    connections: int = Field(4, ge=1, le=64)  # smtp transport: relay connections in parallel

    def resolved_password(self) -> str | None:
        return _secret(self.password, self.password_env)


class QueueSettings(_Section):
    name: str = Field(pattern=NAME)
    addresses: Lowered = ()
    acknowledge: bool = True
    assignment: Literal["none", "least-loaded", "round-robin"] = "none"


class AgentSettings(_Section):
    email: str
    name: str = ""
    role: Literal["agent", "supervisor"] = "agent"
    queues: tuple[str, ...] = ()
    level: int = Field(1, ge=1, le=9)
    calendar: str | None = None  # working hours; None: always available (as "24x7")


class ServiceSettings(_Section):
    """One entry of the service catalogue: what a ticket is about, and who answers for it."""

    name: str = Field(pattern=NAME)
    description: str = ""
    queue: str  # the responsible queue
    type: TicketType = TicketType.INCIDENT
    priority: Priority = Priority.NORMAL


class CategorySettings(_Section):
    """A customer category; a contact matching any of its lists belongs to it."""

    name: str = Field(pattern=NAME)
    addresses: Lowered = ()
    domains: Lowered = ()  # and their subdomains
    organisations: Lowered = ()  # an organisation's name or domain, any case


def _names_list(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


Names = Annotated[tuple[str, ...], BeforeValidator(_names_list)]  # "a" or ["a", "b"]


def _whole_minutes(value: timedelta) -> timedelta:
    if value <= timedelta(0) or value % timedelta(minutes=1):
        raise ValueError("must be a positive number of whole minutes (e.g. 90m, 8h, 3d)")
    return value


BusinessTime = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_whole_minutes)]


class SlaMatch(_Section):
    """What an SLA policy applies to; a key left out matches anything, a list any of its names."""

    service: Names = ()
    queue: Names = ()
    priority: tuple[Priority, ...] = ()
    category: Names = ()

    @field_validator("priority", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _names_list(value)


class SlaSettings(_Section):
    """One `[[sla]]` policy: targets in business time of its calendar."""

    name: str = Field(pattern=NAME)
    match: SlaMatch = SlaMatch()
    calendar: str = "24x7"
    first_response: BusinessTime | None = None
    resolution: BusinessTime | None = None
    next_reply: BusinessTime | None = None  # each customer reply answered within this
    warn_at: float = Field(0.8, gt=0, lt=1)
    escalate_on_breach: bool = False

    @model_validator(mode="after")
    def _some_target(self) -> SlaSettings:
        if not (self.first_response or self.resolution or self.next_reply):
            raise ValueError("a policy needs a target: first_response, resolution or next_reply")
        return self


class RatingsSettings(_Section):
    wait: Duration = timedelta(hours=72)  # resolved and unrated this long: closed
    window: Duration = timedelta(days=14)  # a rating after closing still counts this long


class LifecycleSettings(_Section):
    pending_reminder: Duration | None = None  # remind a customer who has not answered, once
    pending_close: Duration | None = None  # close a pending ticket nobody answered

    @model_validator(mode="after")
    def _reminder_before_close(self) -> LifecycleSettings:
        remind, close = self.pending_reminder, self.pending_close
        if remind is not None and close is not None and remind >= close:
            raise ValueError(
                "pending_reminder must be shorter than pending_close"
                " (a ticket closed first is never reminded)"
            )
        return self


REPORT_NAMES = ("summary", "sla", "agents", "customers", "ratings", "volume", "backlog")


def _every(value: Any) -> Any:
    return parse_every(value) if isinstance(value, str) else value


class ReportMailSettings(_Section):
    """One `[[reports]]` entry: a report mailed every period, in the desk's time zone."""

    report: Literal["summary", "sla", "agents", "customers", "ratings", "volume", "backlog"]
    every: Annotated[Every, BeforeValidator(_every)]  # "monday 08:00", "1st 08:00", "daily 08:00"
    to: tuple[str, ...] = Field(min_length=1)
    queue: str | None = None  # the report's filters, as `maildesk report` takes them
    service: str | None = None
    category: str | None = None
    chart: bool = True  # attach the report's chart as a PNG

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if "@" not in address:
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    @property
    def key(self) -> str:
        """What names this mailing for its once-per-period claim: changing it starts anew."""
        scope = ",".join(f"{k}={v}" for k, v in self.filters().items())
        return f"{self.report} {self.every} {scope}".strip()

    def filters(self) -> dict[str, str]:
        chosen = {"queue": self.queue, "service": self.service, "category": self.category}
        return {name: value for name, value in chosen.items() if value is not None}


class BlacklistSettings(_Section):
    addresses: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()


def spare_cores() -> int:
    """One fewer than the cores (the writer keeps one), at most 4: on 2 cores, one."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


class WorkerSettings(_Section):
    batch_size: int = Field(50, ge=1)
    idle_seconds: float = Field(5.0, gt=0)
    parse_processes: int = Field(default_factory=spare_cores, ge=0, le=64)  # 0: parse inline


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _lower_word(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class LoggingSettings(_Section):
    level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(_upper)] = "INFO"
    format: Annotated[Literal["text", "json"], BeforeValidator(_lower_word)] = "text"


class MetricsSettings(_Section):
    """The Prometheus endpoint of `maildesk run` (off unless enabled)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(9469, ge=0, le=65535)


@lru_cache(maxsize=64)
def _default_queues(address: str) -> tuple[QueueSettings, ...]:
    """The one default queue on the desk's address: built once, not on every mail's look."""
    return (QueueSettings(name=DEFAULT_QUEUE, addresses=(address,)),)


_ADDRESSES: dict[tuple[str, int], tuple[tuple[QueueSettings, ...], frozenset[str]]] = {}


def _addresses_of(address: str, queues: tuple[QueueSettings, ...]) -> frozenset[str]:
    """The desk's addresses, worked out once for a desk address and queues tuple (by
    identity: hashing the queues would cost more than the set)."""
    key = (address, id(queues))
    known = _ADDRESSES.get(key)
    if known is not None and known[0] is queues:  # the entry holds `queues`: its id is its own
        return known[1]
    found = {address}
    for queue in queues:  # the default queue has the desk's address only
        found.update(queue.addresses)
    addresses = frozenset(found)
    if len(_ADDRESSES) >= 64:
        _ADDRESSES.clear()
    _ADDRESSES[key] = (queues, addresses)
    return addresses


class Settings(_Section):
    """The whole validated configuration; `base_dir` anchors every relative path."""

    base_dir: Path = Path(".")
    desk: DeskSettings = DeskSettings()
    database: DatabaseSettings = DatabaseSettings()
    smtp: SmtpSettings = SmtpSettings()
    lmtp: LmtpSettings = LmtpSettings()
    imap: tuple[ImapSettings, ...] = ()
    outbound: OutboundSettings = OutboundSettings()
    queues: tuple[QueueSettings, ...] = ()
    agents: tuple[AgentSettings, ...] = ()
    blacklist: BlacklistSettings = BlacklistSettings()
    worker: WorkerSettings = WorkerSettings()
    logging: LoggingSettings = LoggingSettings()
    metrics: MetricsSettings = MetricsSettings()
    services: tuple[ServiceSettings, ...] = ()
    categories: tuple[CategorySettings, ...] = ()  # in order of precedence
    # Read by maildesk.timing.calendars and maildesk.rules, which name their own problems:
    calendars: tuple[dict[str, Any], ...] = ()
    rules: tuple[dict[str, Any], ...] = ()
    sla: tuple[SlaSettings, ...] = ()  # most specific match wins; declared order breaks ties
    ratings: RatingsSettings = RatingsSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()
    reports: tuple[ReportMailSettings, ...] = ()  # reports by mail

    def queue_names(self) -> list[str]:
        return [q.name for q in self.effective_queues()]

    def effective_queues(self) -> tuple[QueueSettings, ...]:
        """The configured queues, or the one default queue on the desk's address."""
        return self.queues or _default_queues(self.desk.address)

    def path(self, relative: str) -> Path:
        return (self.base_dir / relative).resolve()

    def database_url(self) -> str:
        """The database URL with a relative SQLite path anchored at the config's folder."""
        return anchored_url(self.database.url, self.base_dir)

    def desk_addresses(self) -> frozenset[str]:
        """Every address that belongs to the desk itself (never a participant)."""
        return _addresses_of(self.desk.address, self.queues)

    def desk_domains(self) -> frozenset[str]:
        """The domains of the desk's addresses: signed reply addresses may be on any of them."""
        return frozenset(a.rpartition("@")[2].lower() for a in self.desk_addresses())

    def queue_address(self, name: str) -> str:
        """The queue's own (first) address, which mail about its tickets comes from."""
        for queue in self.effective_queues():
            if queue.name == name and queue.addresses:
                return queue.addresses[0]
        return self.desk.address


def _location(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def problems_of(error: ValidationError) -> list[str]:
    """One line per problem: the dotted key, then what is wrong with it."""
    lines = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{_location(item['loc'])}: {message}")
    return lines


def validate_settings(data: dict[str, Any], base_dir: Path) -> tuple[Settings | None, list[str]]:
    """The settings, and every problem of their fields and between their sections, at once.

    The settings are None when there is any problem. Field problems come from pydantic (which
    reports them all); the cross-checks read the raw tables, so they run even then.
    """
    found = ["base_dir: unknown key"] if "base_dir" in data else []
    settings = None
    try:
        settings = Settings.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        found += problems_of(exc)
    found += cross_problems(data)
    return (None if found else settings), found


def parse_settings(data: dict[str, Any], base_dir: Path) -> Settings:
    settings, found = validate_settings(data, base_dir)
    if settings is None:
        raise ConfigError("; ".join(found))
    return settings


def secret_problems(desk: DeskSettings) -> list[str]:
    """The desk secret is set (in the file or its environment variable) and not guessable.

    A weak secret does not stop the desk (the daemon logs a warning); `config check` fails.
    """
    secret = desk.resolved_secret()
    if not secret:
        env = desk.secret_env or "desk.secret_env"
        return [f"desk.secret: not set (set ${env} or desk.secret)"]
    where = "desk.secret" if desk.secret else f"desk.secret_env: ${desk.secret_env}"
    keys = [(where, secret)]
    keys += [(f"desk.old_secrets[{i}]", old) for i, old in enumerate(desk.old_secrets)]
    return [
        f"{key}: too weak, {why} (whoever guesses it can forge reply addresses)"
        for key, value in keys
        if (why := weak_secret(value))
    ]


def config_problems(data: dict[str, Any], base_dir: Path) -> tuple[Settings | None, list[str]]:
    """Everything `maildesk config check` finds in a config's data: fields, references, secrets.

    The secrets are checked even when other keys are invalid, as long as theirs are valid.
    """
    settings, found = validate_settings(data, base_dir)
    desk = settings.desk if settings else None
    if desk is None:
        table = data.get("desk", {})
        if not isinstance(table, dict):
            return None, found
        keys = ("secret", "secret_env", "old_secrets")
        try:
            desk = DeskSettings.model_validate({k: table[k] for k in keys if k in table})
        except ValidationError:
            return None, found
    return settings, found + secret_problems(desk)


def load_settings(path: Path) -> Settings:
    """Read and validate a config file; every failure is one ConfigError line."""
    return parse_settings(read_config(path), path.resolve().parent)
