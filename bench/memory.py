"""Memory of the daemon: idle, one large mail, two large mails at once; and of `maildesk ingest`.

Starts `maildesk run` on a fresh SQLite desk as a subprocess and reads its /proc/PID/status:
- idle: VmRSS once SMTP listens and the first 60 s scheduler tick has run (`--quick`: after
  a few worker idle rounds instead), beside the 150 MB target and the import floor
  (`python -c "import maildesk.cli.commands"`, measured in the same run);
- one mail with a 15 MB attachment sent over SMTP: VmHWM over its processing (the peak is
  reset first by writing 5 to /proc/PID/clear_refs, so the figure is this phase's own), beside
  10x the mail's size; also the peak's growth over the idle VmRSS, which is what processing
  the mail costs (the absolute peak includes the idle daemon, so it is the stricter figure);
- two such mails sent at once over two SMTP connections: the same figures, and the growth's
  ratio to the one-mail growth (about 1: they did not add up; about 2: they did);
- `maildesk ingest FILE` of one such mail, a process of its own: its peak RSS (rusage), beside
  the import floor and 10x the mail's size.
Each mail is checked: a ticket was created and the attachment file is byte-identical.
Run from the repository root: `python -m bench.memory [--quick] [--attachment-mb 15]
[--baseline-rev REV]` (REV: measure an older revision's maildesk, extracted with git archive).
Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import random
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.ingest_pipe import baseline_source

ROOT = Path(__file__).resolve().parent.parent
SOURCE = [ROOT]  # where the maildesk package run is (`--baseline-rev`: an older one)
SECRET = "bench-secret-kx4-Rt9w_Lq2Zp7yHv3N"
MB = 1024 * 1024
DESK = "support@example.com"


def large_mail(seed: int, attachment_bytes: int) -> tuple[bytes, bytes]:
    """(the raw mail, its attachment): random bytes, base64 in 76-character lines."""
    data = random.Random(seed).randbytes(attachment_bytes)
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    head = (
        f"From: Large Customer {seed} <large{seed}@customer.example>\r\nTo: {DESK}\r\n"
        f"Subject: the log file {seed}\r\nMessage-ID: <large-{seed}@customer.example>\r\n"
        "Date: Tue, 01 Dec 2026 05:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n--b0\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\nThe log file is attached.\r\n--b0\r\n"
        "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment; filename="log-{seed}.bin"\r\n\r\n'
    )
    return head.encode() + encoded + b"--b0--\r\n", data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_desk(folder: Path, port: int) -> Path:
    config = folder / "maildesk.toml"
    config.write_text(
        f'[desk]\nsecret = "{SECRET}"\n\n[database]\nurl = "sqlite:///{folder / "desk.db"}"\n\n'
        f"[smtp]\nport = {port}\n\n[worker]\nidle_seconds = 1\n\n"
        f'[[queues]]\nname = "general"\naddresses = ["{DESK}"]\n'
    )
    maildesk(config, "db", "upgrade")
    return config


def maildesk(config: Path, *args: str) -> None:
    command = [sys.executable, "-m", "maildesk", "--config", str(config), *args]
    subprocess.run(command, check=True, capture_output=True, cwd=SOURCE[0])


# A child's rusage maxrss is no use here: Linux carries the forking parent's (this bench's)
# high-water mark across exec. So the child reads its own VmHWM (reset by exec) at exit.
_AT_EXIT = (
    "import atexit, sys\n"
    "def _peak():\n"
    "    status = open('/proc/self/status').read()\n"
    "    kb = [l.split()[1] for l in status.splitlines() if l.startswith('VmHWM')][0]\n"
    "    sys.stderr.write(f'VmHWM-kB {kb}\\n')\n"
    "atexit.register(_peak)\n"
)


def child_peak_mb(code: str, *argv: str) -> float:
    """The peak RSS (VmHWM at exit) of `python -c code argv…`, MB."""
    command = [sys.executable, "-c", _AT_EXIT + code, *argv]
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=SOURCE[0])
    if done.returncode != 0:
        print(f"  ! {' '.join(argv) or code} exited {done.returncode}")
    kb = [x.split()[1] for x in done.stderr.decode().splitlines() if x.startswith("VmHWM-kB")]
    return int(kb[-1]) / 1024 if kb else float("nan")


def status_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a running process, MB."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0]) / 1024
    return figures


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS


class Daemon:
    """`maildesk run` as a subprocess, its log in a file."""

    def __init__(self, config: Path, folder: Path, port: int) -> None:
        self.log = folder / "daemon.log"
        self.port = port
        command = [sys.executable, "-m", "maildesk", "--config", str(config), "run"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stderr=log, stdout=log, cwd=SOURCE[0])

    def wait_listening(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"the daemon did not listen; see {self.log}")

    def wait_log(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log.read_text(errors="replace"):
                return True
            time.sleep(0.5)
        return False

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def send(port: int, raw: bytes, seed: int) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=300) as client:
        client.sendmail(f"large{seed}@customer.example", [DESK], raw)


def processed(database: Path, seed: int, data: bytes, folder: Path, timeout: float) -> str:
    """Wait until the mail is settled; its outcome, checked against the attachment's bytes."""
    deadline = time.monotonic() + timeout
    query = "SELECT state, outcome FROM inboxitem WHERE message_id = ?"
    while time.monotonic() < deadline:
        with sqlite3.connect(database, timeout=30) as db:
            row = db.execute(query, (f"large-{seed}@customer.example",)).fetchone()
        if row is not None and row[0] != "received":
            return f"{row[1]}, {stored_check(folder, data)}"
        time.sleep(0.2)
    return "not processed in time"


def stored_check(folder: Path, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    path = folder / "var" / "attachments" / sha[:2] / sha
    if path.exists() and path.read_bytes() == data:
        return "attachment byte-identical"
    return "ATTACHMENT MISSING OR DIFFERENT"


def line(label: str, figure: float, beside: str) -> None:
    print(f"  {label:52} {figure:8.1f} MB   {beside}")


def floors() -> dict[str, float]:
    return {
        "python -c pass": child_peak_mb("pass"),
        "import floor": child_peak_mb("import maildesk.cli.commands"),
    }


def idle(daemon: Daemon, quick: bool) -> float:
    daemon.wait_listening()
    if quick:
        time.sleep(4)  # a few worker idle rounds (idle_seconds = 1)
        waited = "SMTP listening, 4 s of worker idle rounds"
    else:
        ticked = daemon.wait_log("tick:", timeout=90)
        waited = "SMTP listening, first scheduler tick " + ("done" if ticked else "NOT SEEN")
    figures = status_mb(daemon.process.pid)
    print(f"idle daemon ({waited}):")
    line("VmRSS", figures["VmRSS"], "target < 150 MB")
    line("VmHWM since start", figures["VmHWM"], "")
    return figures["VmRSS"]


def over_smtp(daemon: Daemon, folder: Path, seeds: list[int], size: int) -> tuple[float, float]:
    """Send the mails at once, one connection each: the peak, and the RSS once idle again."""
    pid = daemon.process.pid
    mails = {seed: large_mail(seed, size) for seed in seeds}
    before = status_mb(pid)["VmRSS"]
    reset_peak(pid)
    threads = [
        threading.Thread(target=send, args=(daemon.port, raw, seed))
        for seed, (raw, _) in mails.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    received = status_mb(pid)["VmHWM"]  # the worker may have begun by then
    for seed, (_, data) in mails.items():
        print(f"  mail {seed}: {processed(folder / 'desk.db', seed, data, folder, 300)}")
    peak = status_mb(pid)["VmHWM"]
    time.sleep(2)  # the worker settles the item, then the daemon is idle again
    mail_mb = len(next(iter(mails.values()))[0]) / MB
    line("VmRSS before sending", before, "")
    line("VmHWM until the 250 (aiosmtpd reads, maildesk stores)", received, "")
    line("VmHWM while processing (reset before sending)", peak, f"10x mail = {10 * mail_mb:.0f} MB")
    line("  growth over the RSS before sending", peak - before, f"mail = {mail_mb:.1f} MB")
    after = status_mb(pid)["VmRSS"]
    line("VmRSS 2 s after (idle again)", after, "target < 150 MB")
    return peak, after


def over_ingest(config: Path, folder: Path, size: int, floor: float) -> None:
    raw, data = large_mail(9, size)
    mail_file = folder / "large-9.eml"
    mail_file.write_bytes(raw)
    run = "import sys, runpy\nsys.argv[0] = 'maildesk'\n"
    run += "runpy.run_module('maildesk', run_name='__main__')"
    peak = child_peak_mb(run, "--config", str(config), "ingest", str(mail_file))
    print(f"maildesk ingest FILE (own process): {stored_check(folder, data)}")
    mail_mb = len(raw) / MB
    line("peak RSS (rusage)", peak, f"10x mail = {10 * mail_mb:.0f} MB")
    line("  over the import floor", peak - floor, f"mail = {mail_mb:.1f} MB")


def daemon_phases(daemon: Daemon, folder: Path, size: int, quick: bool) -> None:
    idle(daemon, quick)
    print("warm-up: one small mail over SMTP (first-use imports and caches):")
    _, warm = over_smtp(daemon, folder, [100], 1024)
    print("one large mail over SMTP:")
    one, _ = over_smtp(daemon, folder, [1], size)
    print("two large mails over SMTP at once:")
    two, _ = over_smtp(daemon, folder, [2, 3], size)
    ratio = (two - warm) / (one - warm)
    print(f"  peak over the warm idle RSS ({warm:.1f} MB), two mails / one: {ratio:.2f}")
    print("  (1.0: the second mail added nothing to the peak; 2.0: the two added up)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attachment-mb", type=float, default=15, help="attachment size, MiB")
    parser.add_argument("--quick", action="store_true", help="do not wait for the first tick")
    parser.add_argument("--keep", action="store_true", help="keep the desk's folder")
    parser.add_argument("--baseline-rev", help="measure this git revision's maildesk instead")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="maildesk-memory-"))
    if args.baseline_rev:
        SOURCE[0] = baseline_source(args.baseline_rev, folder / "source")
        print(f"maildesk of {args.baseline_rev} (git archive)")
    size = int(args.attachment_mb * MB)
    raw, _ = large_mail(0, size)
    limit = 26214400  # [smtp] max_message_bytes, the default (DESIGN.md section 8)
    under = "under" if len(raw) < limit else "OVER"
    print(f"mail: {size / MB:.1f} MiB attachment, {len(raw) / MB:.1f} MiB encoded")
    print(f"  ({len(raw)} bytes; {under} the default limit, max_message_bytes = {limit})")
    floor = floors()
    for name, figure in floor.items():
        line(name, figure, "peak RSS (rusage)")
    port = free_port()
    config = make_desk(folder, port)
    daemon = Daemon(config, folder, port)
    try:
        daemon_phases(daemon, folder, size, args.quick)
    finally:
        daemon.stop()
    over_ingest(config, folder, size, floor["import floor"])
    print(f"desk folder: {folder}" if args.keep else "")
    if not args.keep:
        subprocess.run(["rm", "-rf", str(folder)], check=False)


if __name__ == "__main__":
    main()
