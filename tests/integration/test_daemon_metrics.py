"""`maildesk run` with `[metrics]` enabled, in the test's own event loop: mail comes in over
SMTP, and a Prometheus scrape of the daemon's endpoint counts it, its processing and its acks.
"""

from __future__ import annotations

import asyncio
import socket
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from maildesk.app import open_app
from maildesk.config import Settings
from maildesk.daemon.loop import Daemon
from maildesk.daemon.metrics import MetricsEndpoint
from maildesk.db import make_engine
from maildesk.errors import ConfigError
from maildesk.observe import NO_OBSERVER
from tests.conftest import make_settings
from tests.integration.test_daemon_inprocess import DEADLINE, HOST, send, until
from tests.mails import mail

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def metrics_settings(tmp_path: Path, sqlite_template: Path, **metrics: object) -> Settings:
    database = tmp_path / "var" / "maildesk.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(sqlite_template.read_bytes())
    return make_settings(
        tmp_path,
        f"sqlite:///{database}",
        smtp={"host": HOST, "port": 0},
        metrics={"host": HOST, "port": 0, **metrics},
    )


@pytest.fixture
async def daemon(
    tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[tuple[Daemon, asyncio.Task[None]]]:
    """The daemon as `maildesk run` composes it, with metrics on a port the kernel picks."""
    running = Daemon(open_app(metrics_settings(tmp_path, sqlite_template, enabled=True)))
    task = asyncio.create_task(running.run_until_stopped(), name="maildesk run")

    def started() -> bool:
        if task.done():
            task.result()
        return running.scheduler.running

    await until(started)
    yield running, task
    running.stopping.set()
    await asyncio.wait_for(task, DEADLINE)
    assert task.result() is None


def scrape(port: int) -> Samples:
    """GET /metrics as Prometheus does; every sample by name and labels."""
    with urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=10) as answer:
        body = answer.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def test_a_scrape_counts_mails_accepted_over_smtp_their_processing_and_their_acks(
    daemon: tuple[Daemon, asyncio.Task[None]],
) -> None:
    running, _ = daemon
    assert running.smtp is not None and running.metrics is not None
    smtp, port = running.smtp.port, running.metrics.port
    printer = mail(sender="Carol <carol@acme.test>", subject="Printer on fire")
    scanner = mail(sender="Dan <dan@acme.test>", subject="Scanner smokes")

    for raw in (printer, scanner, printer):  # the printer mail twice: an MTA's retry
        assert await asyncio.to_thread(send, smtp, raw) == {}

    async def all_sent() -> Samples:
        while True:
            samples = await asyncio.to_thread(scrape, port)
            if value(samples, "maildesk_outbox_sent_total") >= 6:
                return samples
            await asyncio.sleep(0.05)

    samples = await asyncio.wait_for(all_sent(), DEADLINE)

    assert value(samples, "maildesk_mails_accepted_total", source="smtp") == 3
    assert value(samples, "maildesk_mails_accepted_total", source="imap") == 0
    assert value(samples, "maildesk_mails_processed_total", outcome="created") == 2
    assert value(samples, "maildesk_mails_processed_total", outcome="duplicate") == 1
    assert value(samples, "maildesk_mails_processed_total", outcome="failed") == 0
    assert value(samples, "maildesk_processing_seconds_count") == 2
    assert value(samples, "maildesk_processing_seconds_sum") > 0
    # per new ticket: the ack, and a notice to each of the queue's two agents
    assert value(samples, "maildesk_outbox_queued_total") == 6
    assert value(samples, "maildesk_outbox_sent_total") == 6
    assert value(samples, "maildesk_outbox_failed_total") == 0
    assert value(samples, "maildesk_sla_warnings_total") == 0
    assert value(samples, "maildesk_ratings_total", score="5") == 0
    assert value(samples, "maildesk_inbox_waiting") == 0
    assert value(samples, "maildesk_outbox_waiting") == 0


async def test_stopping_the_daemon_closes_its_metrics_endpoint(
    daemon: tuple[Daemon, asyncio.Task[None]],
) -> None:
    running, task = daemon
    assert running.metrics is not None
    port = running.metrics.port
    assert value(await asyncio.to_thread(scrape, port), "maildesk_outbox_sent_total") == 0

    running.stopping.set()
    await asyncio.wait_for(task, DEADLINE)

    with pytest.raises(OSError):  # connection refused: nothing listens there any more
        await asyncio.to_thread(scrape, port)


def test_each_daemon_counts_on_a_registry_of_its_own(tmp_path: Path, sqlite_template: Path) -> None:
    settings = metrics_settings(tmp_path, sqlite_template, enabled=True)
    engine = open_app(settings).engine
    first = MetricsEndpoint(settings.metrics, engine)
    second = MetricsEndpoint(settings.metrics, engine)

    first.observer.accepted("smtp", duplicate=False)
    first.observer.rated(4)

    def counted(endpoint: MetricsEndpoint, name: str, **labels: str) -> float | None:
        return endpoint.registry.get_sample_value(name, labels)

    assert counted(first, "maildesk_mails_accepted_total", source="smtp") == 1
    assert counted(second, "maildesk_mails_accepted_total", source="smtp") == 0
    assert counted(first, "maildesk_ratings_total", score="4") == 1
    engine.dispose()


def test_without_metrics_the_daemon_serves_none_and_its_desk_tells_no_one(
    tmp_path: Path, sqlite_template: Path
) -> None:
    daemon = Daemon(open_app(metrics_settings(tmp_path, sqlite_template)))

    assert daemon.metrics is None
    assert daemon.app.desk.observer is NO_OBSERVER
    daemon.app.engine.dispose()


def test_a_scrape_while_the_database_is_away_answers_the_counters_without_the_gauges(
    tmp_path: Path, sqlite_template: Path, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    settings = metrics_settings(tmp_path, sqlite_template, enabled=True)
    engine = make_engine(f"postgresql+psycopg://maildesk@127.0.0.1:{closed_port}/maildesk")
    endpoint = MetricsEndpoint(settings.metrics, engine)
    endpoint.start()
    try:
        samples = scrape(endpoint.port)
    finally:
        endpoint.stop()
        engine.dispose()

    assert value(samples, "maildesk_outbox_sent_total") == 0
    assert not any(name.endswith("_waiting") for name, _ in samples)
    assert any("metrics: cannot count waiting mail" in m for m in caplog.messages)


def test_a_metrics_port_that_is_taken_is_one_line_naming_it(
    tmp_path: Path, sqlite_template: Path
) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = metrics_settings(tmp_path, sqlite_template, enabled=True, port=port)
        endpoint = MetricsEndpoint(settings.metrics, make_engine(settings.database_url()))

        with pytest.raises(ConfigError) as error:
            endpoint.start()

    assert str(error.value) == f"metrics: cannot listen on {HOST}:{port}: Address already in use"
