"""`maildesk run`: one asyncio loop with SMTP listener, IMAP pollers, worker, sender, scheduler.

SIGTERM/SIGINT stop it gracefully: new SMTP sessions get 421, in-flight DATA finishes, the
pollers log out, the worker finishes the batch at hand.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from maildesk.addresses import local_part_matches
from maildesk.app import App, async_accept
from maildesk.daemon.imap import imap_pollers
from maildesk.daemon.tick import tick
from maildesk.db import turn_due
from maildesk.errors import TransientError
from maildesk.ingest.imap import ImapPoller
from maildesk.ingest.lmtp import LmtpListener
from maildesk.ingest.smtp import SmtpListener
from maildesk.pipeline.batch import processing
from maildesk.pipeline.large_mail import map_large_blocks_apart
from maildesk.pipeline.parse_pool import close_pools
from maildesk.sender.delivery import deliver_due
from maildesk.sender.transports import make_transports, transport_settings

if TYPE_CHECKING:
    from maildesk.daemon.metrics import MetricsEndpoint

log = logging.getLogger(__name__)

# The longest a worker's transaction keeps SQLite's lock from writers it cannot see waiting (the
# MTA's `maildesk ingest`, a command): it commits after the mail at hand once this is spent.
HOLD_SECONDS = 0.05


class Worker:
    """Processes received inbox items in a thread, woken by each stored mail or by a timer."""

    def __init__(self, app: App, on_processed: Callable[[], None] = lambda: None) -> None:
        self.app = app
        self.wake = asyncio.Event()
        self.processed = 0
        self.on_processed = on_processed

    async def run(self) -> None:
        idle = self.app.settings.worker.idle_seconds
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=idle)
            self.wake.clear()
            await self._drain()

    async def _drain(self) -> None:
        """What has arrived, `[worker] batch_size` small items to a transaction and a large one
        alone, until none is left. On SQLite a transaction also ends after the mail at hand
        once another writer waits for the lock or it has held the lock for `HOLD_SECONDS`."""
        batch = self.app.settings.worker.batch_size
        engine = self.app.engine
        commit_now = turn_due(engine, budget=HOLD_SECONDS)
        outcomes = processing(engine, self.app.desk, batch=batch, commit_now=commit_now)
        while True:
            try:
                outcome = await asyncio.to_thread(next, outcomes, None)
            except TransientError as exc:
                log.warning("worker paused: %s", exc)
                return
            if outcome is None:
                return
            self.processed += 1
            self.on_processed()  # the runner logged each and told the desk's observer


class Sender:
    """Delivers due outbox rows, woken after each processed mail or every poll interval."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.wake = asyncio.Event()
        self.transports = make_transports(transport_settings(app.settings))

    async def run(self) -> None:
        outbound = self.app.settings.outbound
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=outbound.poll_seconds)
            self.wake.clear()
            try:
                report = await deliver_due(
                    self.app.engine,
                    self.transports,
                    self.app.desk.clock,
                    batch=outbound.batch_size,
                    backoff=self.app.desk.backoff(),
                    observer=self.app.desk.observer,
                )
            except TransientError as exc:
                log.warning("sender paused: %s", exc)
                continue
            except Exception:  # a bug must not silence the outbox for the daemon's life
                log.exception("sender failed; trying again at the next poll")
                continue
            for problem in report.problems:
                log.warning("%s", problem)
            if report.more_due:
                self.wake.set()  # a connection stopped at its batch: more may be due


def observed(app: App) -> tuple[App, MetricsEndpoint | None]:
    """The app whose desk tells this daemon's metrics, when `[metrics]` is enabled."""
    if not app.settings.metrics.enabled:
        return app, None
    from maildesk.daemon.metrics import MetricsEndpoint  # prometheus_client only when enabled

    metrics = MetricsEndpoint(app.settings.metrics, app.engine)
    return App(engine=app.engine, desk=replace(app.desk, observer=metrics.observer)), metrics


class Daemon:
    def __init__(self, app: App) -> None:
        self.app, self.metrics = observed(app)
        self.sender = Sender(self.app)
        self.worker = Worker(self.app, on_processed=self.sender.wake.set)
        self.stopping = asyncio.Event()
        self.smtp: SmtpListener | None = None
        self.lmtp: LmtpListener | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.pollers: list[ImapPoller] = []
        self.scheduler = AsyncIOScheduler(timezone="UTC")

    def _smtp_listener(self) -> SmtpListener:
        settings = self.app.settings
        desk = settings.desk_addresses()
        return SmtpListener(
            host=settings.smtp.host,
            port=settings.smtp.port,
            accept=async_accept(self.app),
            local_addresses=lambda address: local_part_matches(address, desk),
            max_message_bytes=settings.smtp.max_message_bytes,
            hostname=settings.smtp.hostname or settings.desk.domain,
            on_stored=self.worker.wake.set,
        )

    def _lmtp_listener(self) -> LmtpListener:
        """Takes the SMTP listener's limits: the same mail arrives either way."""
        settings = self.app.settings
        lmtp = settings.lmtp
        desk = settings.desk_addresses()
        return LmtpListener(
            socket_path=settings.path(lmtp.socket) if lmtp.socket else None,
            socket_mode=lmtp.socket_mode,
            host=lmtp.host,
            port=lmtp.port,
            accept=async_accept(self.app),
            local_addresses=lambda address: local_part_matches(address, desk),
            max_message_bytes=settings.smtp.max_message_bytes,
            hostname=settings.smtp.hostname or settings.desk.domain,
            on_stored=self.worker.wake.set,
        )

    async def start(self) -> None:
        settings = self.app.settings
        map_large_blocks_apart()
        if self.metrics is not None:
            self.metrics.start()
        if settings.smtp.enabled:
            self.smtp = self._smtp_listener()
            await self.smtp.start()
            log.info("SMTP listening on %s:%s", settings.smtp.host, self.smtp.port)
        if settings.lmtp.enabled:
            self.lmtp = self._lmtp_listener()
            await self.lmtp.start()
        self.tasks.append(asyncio.create_task(self.worker.run(), name="worker"))
        self.tasks.append(asyncio.create_task(self.sender.run(), name="sender"))
        self.pollers = imap_pollers(self.app)
        for poller in self.pollers:
            name = f"imap:{poller.settings.name}"
            self.tasks.append(asyncio.create_task(poller.run(), name=name))
        self.scheduler.add_job(
            self._tick, "interval", seconds=60, id="tick", coalesce=True, max_instances=1
        )
        self.scheduler.start()

    async def _tick(self) -> None:
        report = await asyncio.to_thread(tick, self.app)
        log.info("tick: %s", report.line())

    async def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        if self.smtp is not None:
            await self.smtp.stop(self.app.settings.smtp.shutdown_grace_seconds)
        if self.lmtp is not None:
            await self.lmtp.stop(self.app.settings.smtp.shutdown_grace_seconds)
        await asyncio.gather(*(poller.stop() for poller in self.pollers), return_exceptions=True)
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with suppress(asyncio.CancelledError):
                await task
        for transport in self.sender.transports:
            await transport.close()
        if self.metrics is not None:
            await asyncio.to_thread(self.metrics.stop)
        close_pools()
        self.app.engine.dispose()

    async def run_until_stopped(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        await self.start()
        log.info("maildesk running")
        await self.stopping.wait()
        log.info("maildesk stopping")
        await self.stop()
