"""`maildesk run`: one asyncio loop with the SMTP listener, IMAP pollers, worker and scheduler.

SIGTERM/SIGINT stop it gracefully: new SMTP sessions get 421, in-flight DATA finishes, the
pollers log out, the worker finishes the item at hand.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import suppress

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from maildesk.addresses import local_part_matches
from maildesk.app import App, async_accept
from maildesk.errors import TransientError
from maildesk.ingest.smtp import SmtpListener
from maildesk.pipeline.runner import process_one
from maildesk.timed import tick

log = logging.getLogger(__name__)


class Worker:
    """Processes received inbox items in a thread, woken by each stored mail or by a timer."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.wake = asyncio.Event()
        self.processed = 0

    async def run(self) -> None:
        idle = self.app.settings.worker.idle_seconds
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=idle)
            self.wake.clear()
            await self._drain()

    async def _drain(self) -> None:
        while True:
            try:
                outcome = await asyncio.to_thread(process_one, self.app.engine, self.app.desk)
            except TransientError as exc:
                log.warning("worker paused: %s", exc)
                return
            if outcome is None:
                return
            self.processed += 1
            log.info(
                "inbox item %s: %s %s %s",
                outcome.item_id,
                outcome.outcome,
                outcome.ticket or "",
                outcome.reason or "",
            )


class Daemon:
    def __init__(self, app: App) -> None:
        self.app = app
        self.worker = Worker(app)
        self.stopping = asyncio.Event()
        self.smtp: SmtpListener | None = None
        self.tasks: list[asyncio.Task[None]] = []
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

    async def start(self) -> None:
        settings = self.app.settings
        if settings.smtp.enabled:
            self.smtp = self._smtp_listener()
            await self.smtp.start()
            log.info("SMTP listening on %s:%s", settings.smtp.host, self.smtp.port)
        self.tasks.append(asyncio.create_task(self.worker.run(), name="worker"))
        for poller in self._imap_pollers():
            self.tasks.append(asyncio.create_task(poller.run(), name=f"imap:{poller.name}"))
        self.scheduler.add_job(
            self._tick, "interval", seconds=60, id="tick", coalesce=True, max_instances=1
        )
        self.scheduler.start()

    def _imap_pollers(self) -> list:  # type: ignore[type-arg]
        return []

    async def _tick(self) -> None:
        report = await asyncio.to_thread(tick, self.app)
        log.info("tick: %s", report.line())

    async def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        if self.smtp is not None:
            await self.smtp.stop(self.app.settings.smtp.shutdown_grace_seconds)
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with suppress(asyncio.CancelledError):
                await task
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
