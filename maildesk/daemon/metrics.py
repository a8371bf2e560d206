"""The Prometheus endpoint of `maildesk run` (`[metrics]`): counters the desk's observer
increments, gauges read from the database at each scrape, on a registry of this daemon's own.

Only `daemon/loop.py` imports this module, and only when metrics are enabled, so that
prometheus_client is loaded by a daemon that serves metrics and by nothing else.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from maildesk.config import MetricsSettings
from maildesk.db import read_only_unit
from maildesk.errors import ConfigError
from maildesk.models import InboxItem, OutboxItem
from maildesk.observe import SOURCES, Delivered, Processed

log = logging.getLogger(__name__)

OUTCOMES = ("created", "appended", "reopened", "rejected", "duplicate", "dropped", "held", "failed")
SCORES = ("1", "2", "3", "4", "5")
# accept → settled takes milliseconds; a slow database or a huge mail, seconds
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class PrometheusObserver:
    """The desk's observer as Prometheus counters and a histogram, on `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(name, doc, labels, namespace="maildesk", registry=registry)

        self.accepted_mails = counter("mails_accepted", "Mails stored by a source", ("source",))
        self.processed_mails = counter(
            "mails_processed", "Mails settled, by outcome (or found duplicate)", ("outcome",)
        )
        self.outbox_queued = counter("outbox_queued", "Outbound mails queued")
        self.outbox_sent = counter("outbox_sent", "Outbound mails the relay took")
        self.outbox_failed = counter("outbox_failed", "Outbound mails given up on")
        self.poll_errors = counter("imap_poll_errors", "Failed IMAP polls", ("mailbox",))
        self.sla_warnings = counter("sla_warnings", "SLA warnings sent")
        self.sla_breaches = counter("sla_breaches", "SLA breach notices sent")
        self.ratings = counter("ratings", "Ratings recorded, by score", ("score",))
        self.processing = Histogram(
            "processing_seconds",
            "Time to process one inbox item, claim to commit",
            namespace="maildesk",
            buckets=BUCKETS,
            registry=registry,
        )
        self._start_at_zero()

    def _start_at_zero(self) -> None:
        """Every known label value is exported from the start, at 0 (rates need a first point)."""
        for source in SOURCES.values():
            self.accepted_mails.labels(source=source)
        for outcome in OUTCOMES:
            self.processed_mails.labels(outcome=outcome)
        for score in SCORES:
            self.ratings.labels(score=score)

    def accepted(self, source: str, *, duplicate: bool) -> None:
        self.accepted_mails.labels(source=source).inc()
        if duplicate:  # settled at once: it is never an inbox item of its own
            self.processed_mails.labels(outcome="duplicate").inc()

    def processed(self, mail: Processed) -> None:
        self.processed_mails.labels(outcome=mail.outcome).inc()
        self.processing.observe(mail.seconds)

    def queued(self, count: int) -> None:
        self.outbox_queued.inc(count)

    def delivered(self, mail: Delivered) -> None:
        if mail.result == "sent":
            self.outbox_sent.inc()
        elif mail.result == "failed":
            self.outbox_failed.inc()

    def poll_failed(self, mailbox: str) -> None:
        self.poll_errors.labels(mailbox=mailbox).inc()

    def sla_notices(self, *, warnings: int, breaches: int) -> None:
        self.sla_warnings.inc(warnings)
        self.sla_breaches.inc(breaches)

    def rated(self, score: int) -> None:
        self.ratings.labels(score=str(score)).inc()


class WaitingGauges(Collector):
    """What waits in the database at scrape time: two counts on indexed state columns."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        try:
            with read_only_unit(self.engine) as session:
                inbox = session.exec(
                    select(func.count()).where(col(InboxItem.state) == "received")
                ).one()
                outbox = session.exec(
                    select(func.count()).where(col(OutboxItem.state) == "queued")
                ).one()
        except Exception as exc:  # a scrape must answer while the database is away
            log.warning("metrics: cannot count waiting mail: %s", exc)
            return
        yield GaugeMetricFamily(
            "maildesk_inbox_waiting", "Received mails not processed yet", value=inbox
        )
        yield GaugeMetricFamily(
            "maildesk_outbox_waiting", "Outbound mails queued, not sent yet", value=outbox
        )


class MetricsEndpoint:
    """This daemon's registry, its observer, and the HTTP server that serves /metrics."""

    def __init__(self, settings: MetricsSettings, engine: Engine) -> None:
        self.settings = settings
        self.registry = CollectorRegistry()
        self.observer = PrometheusObserver(self.registry)
        self.registry.register(WaitingGauges(engine))
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port it listens on (the kernel's pick when configured as 0)."""
        assert self._server is not None, "start() first"
        return int(self._server.server_port)

    def start(self) -> None:
        """Listen; a port that is taken (or a host that is not ours) is one line, naming it."""
        host, port = self.settings.host, self.settings.port
        try:
            self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise ConfigError(f"metrics: cannot listen on {host}:{port}: {exc.strerror}") from exc
        log.info("metrics on http://%s:%s/metrics", host, self.port)

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None
