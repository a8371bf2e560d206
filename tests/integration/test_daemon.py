"""`maildesk run` as a real process: mail arrives over SMTP and IMAP, SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.integration.dovecot import DovecotServer
from tests.mails import mail

pytestmark = pytest.mark.integration


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "maildesk", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _until(check, seconds: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("gave up waiting")


class Output:
    """What a process writes, read line by line in a thread so the test can wait for a line."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def daemon(
    tmp_path: Path, dovecot_server: DovecotServer
) -> Iterator[tuple[Path, int, subprocess.Popen[str], Output]]:
    config = tmp_path / "maildesk.toml"
    config.write_text(f"""
[desk]
address = "support@example.com"
secret = "daemon-test"
[database]
url = "sqlite:///var/maildesk.db"
[smtp]
port = 0
[worker]
idle_seconds = 0.5
[[imap]]
name = "main"
host = "{dovecot_server.host}"
port = {dovecot_server.port}
username = "{dovecot_server.username}"
password = "{dovecot_server.password}"
poll_seconds = 1
timeout_seconds = 10
""")
    assert _cli(config, "db", "upgrade").returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "maildesk", "--config", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    output = Output(process.stdout)

    def bound_port() -> int | None:
        assert process.poll() is None, output.text()
        found = re.search(r"SMTP listening on [\d.]+:(\d+)", output.text())
        return int(found.group(1)) if found else None

    yield config, _until(bound_port), process, output
    if process.poll() is None:
        process.kill()
        process.wait()


def _tickets(config: Path) -> list[dict[str, object]]:
    result = _cli(config, "ticket", "list", "--json")
    return json.loads(result.stdout) if result.returncode == 0 else []


def test_mail_over_smtp_and_imap_becomes_tickets_and_sigterm_stops_cleanly(
    daemon: tuple[Path, int, subprocess.Popen[str], Output], dovecot_server: DovecotServer
) -> None:
    config, port, process, output = daemon
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail(
            "carol@acme.test",
            ["support@example.com"],
            mail(message_id="smtp1@acme.test", subject="Via SMTP"),
        )
    dovecot_server.append(
        mail(sender="dave@other.test", message_id="imap1@other.test", subject="Via IMAP")
    )
    subjects = _until(lambda: {t["subject"] for t in _tickets(config)} >= {"Via SMTP", "Via IMAP"})
    assert subjects
    _until(lambda: all("\\Seen" in m.flags for m in dovecot_server.messages("INBOX")))
    _until(lambda: list((config.parent / "var" / "sent" / "new").glob("*")))  # acks delivered
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    output.reader.join(timeout=30)
    assert "maildesk stopping" in output.text() and "Traceback" not in output.text()
