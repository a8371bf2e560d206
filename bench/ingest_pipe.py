"""Per-mail cost of `maildesk ingest` as an MTA pipe runs it: one process per mail.

Runs, over the same N mails of the corpus, each as its own process with the mail on stdin:
`maildesk ingest --queue` (accept only), plain `maildesk ingest` (accept and process), the
bare interpreter (`python -c pass`, the floor), optionally plain `ingest` of an older
revision (`--baseline-rev`, extracted with `git archive`), and Roundup's mail gateway
(`roundup-mailgw TRACKER`) — Roundup installed from PyPI into `bench/.roundup-venv`
(gitignored, made on first run), a classic tracker on SQLite made by `roundup-admin
install` + `initialise`, with anonymous e-mail access so strangers' mail opens issues.

The commands take turns, mail by mail, so a busy machine slows them alike. Prints wall time
per mail (mean and median, ms), CPU time per mail (user + system, steadier on a shared
machine) and the peak RSS of the processes (MB), both from each child's own rusage
(os.wait4), and each figure's ratio to Roundup's. Run from the
repository root: `python -m bench.ingest_pipe --n 30`. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

try:
    from bench.corpus import generate
except ImportError:  # run as `python bench/ingest_pipe.py`
    from corpus import generate  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
ROUNDUP_VENV = ROOT / "bench" / ".roundup-venv"
SECRET = "bench-secret-kx4-Rt9w_Lq2Zp7yHv3N"


@dataclass
class Figures:
    name: str
    command: Sequence[str]
    env: dict[str, str]
    mails: list[bytes]
    walls: list[float] = field(default_factory=list)  # seconds, one per mail
    cpus: list[float] = field(default_factory=list)  # user + system seconds, one per mail
    peak_rss_mb: float = 0.0
    failures: int = 0

    def run(self, index: int) -> None:
        wall, cpu, rss, code = run_one(self.command, self.mails[index], self.env)
        self.walls.append(wall)
        self.cpus.append(cpu)
        self.peak_rss_mb = max(self.peak_rss_mb, rss)
        self.failures += code != 0

    @property
    def cpu_ms(self) -> float:
        return statistics.fmean(self.cpus) * 1000

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.walls) * 1000

    @property
    def median_ms(self) -> float:
        return statistics.median(self.walls) * 1000


def run_one(
    command: Sequence[str], stdin: bytes, env: dict[str, str]
) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS MB, exit code) of one process fed `stdin`.

    It runs in the root folder, as pipe(8) runs in Postfix's: `python -m` puts the working
    folder first on the path, so a run from the checkout would import the checkout's maildesk
    even for the baseline revision.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd="/",
    )
    assert process.stdin is not None
    process.stdin.write(stdin)
    process.stdin.close()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode


def measure(rows: list[Figures], n: int) -> None:
    """Mail by mail, every command in turn: a busy machine slows them all alike."""
    for index in range(n):
        for row in rows:
            row.run(index)


def maildesk_env(source: Path) -> dict[str, str]:
    """A bare environment, as pipe(8) gives, with `source`'s maildesk first on the path."""
    return {"PATH": os.defpath, "PYTHONPATH": str(source)}


def make_desk(folder: Path, source: Path, database_url: str | None) -> Path:
    folder.mkdir(parents=True)
    url = database_url or f"sqlite:///{folder / 'maildesk.db'}"
    config = folder / "maildesk.toml"
    config.write_text(
        f'[desk]\nsecret = "{SECRET}"\n\n[database]\nurl = "{url}"\n\n'
        '[[queues]]\nname = "general"\naddresses = ["support@example.com"]\n'
    )
    command = [sys.executable, "-m", "maildesk", "--config", str(config), "db", "upgrade"]
    subprocess.run(command, check=True, env=maildesk_env(source), capture_output=True, cwd="/")
    return config


def baseline_source(rev: str, folder: Path) -> Path:
    """The `maildesk` package of an older revision, extracted from git."""
    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "maildesk"], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def roundup_venv() -> Path | None:
    """bench/.roundup-venv with Roundup from PyPI; None (said why) when it cannot be made."""
    mailgw = ROUNDUP_VENV / "bin" / "roundup-mailgw"
    if mailgw.exists():
        return ROUNDUP_VENV
    base = getattr(sys, "_base_executable", sys.executable)
    try:
        subprocess.run([base, "-m", "venv", str(ROUNDUP_VENV)], check=True, capture_output=True)
        pip = [str(ROUNDUP_VENV / "bin" / "pip"), "install", "-q", "roundup"]
        subprocess.run(pip, check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        print(f"Roundup could not be installed from PyPI: {exc.stderr.decode()[-300:]}")
        return None
    return ROUNDUP_VENV


def make_tracker(venv: Path, folder: Path) -> Path:
    """A classic Roundup tracker on SQLite where anonymous mail opens issues."""
    admin = str(venv / "bin" / "roundup-admin")
    options = "mail_domain=example.com,mail_host=localhost,tracker_web=http://localhost:8917/t/"
    subprocess.run(
        [admin, "-i", str(folder), "install", "classic", "sqlite", options],
        check=True,
        capture_output=True,
    )
    schema = folder / "schema.py"
    text = schema.read_text()
    for quote in ("'", '"'):
        line = f"addPermissionToRole({quote}Anonymous{quote}, {quote}Email Access{quote})"
        text = text.replace(f"# db.security.{line}", f"db.security.{line}")
    schema.write_text(text)
    subprocess.run(
        [admin, "-i", str(folder), "initialise", "bench"], check=True, capture_output=True
    )
    return folder


def report(rows: list[Figures], reference: Figures | None) -> None:
    head = (
        f"{'':38} {'mean ms':>8} {'median ms':>9} {'CPU ms':>7} {'peak RSS MB':>11} {'failed':>6}"
    )
    print(f"{head}  vs Roundup (time, CPU, RSS)")
    for row in rows:
        ratio = ""
        if reference is not None and row is not reference:
            ratio = f"{row.mean_ms / reference.mean_ms:.2f}x {row.cpu_ms / reference.cpu_ms:.2f}x "
            ratio += f"{row.peak_rss_mb / reference.peak_rss_mb:.2f}x"
        print(
            f"{row.name:38} {row.mean_ms:8.1f} {row.median_ms:9.1f} {row.cpu_ms:7.1f} "
            f"{row.peak_rss_mb:11.1f} {row.failures:6}  {ratio}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="mails, each its own process")
    parser.add_argument("--database-url", help="a PostgreSQL URL (default: fresh SQLite files)")
    parser.add_argument("--baseline-rev", help="also run plain ingest of this git revision")
    parser.add_argument("--no-roundup", action="store_true", help="skip Roundup's mail gateway")
    args = parser.parse_args()
    mails = generate(args.n)
    work = Path(tempfile.mkdtemp(prefix="ingest-pipe-"))
    python = [sys.executable, "-m", "maildesk"]
    try:
        here = maildesk_env(ROOT)
        rows = [Figures("python -c pass (the floor)", [sys.executable, "-c", "pass"], here, mails)]
        queue_config = make_desk(work / "queue", ROOT, args.database_url)
        queue = [*python, "--config", str(queue_config), "ingest", "--queue"]
        rows.append(Figures("maildesk ingest --queue", queue, here, mails))
        plain_mails = mails
        if args.database_url is None:  # one database each; a PostgreSQL URL is shared
            plain_config = make_desk(work / "plain", ROOT, None)
        else:
            plain_config, plain_mails = queue_config, generate(args.n, seed=2)
        plain = [*python, "--config", str(plain_config), "ingest"]
        rows.append(Figures("maildesk ingest", plain, here, plain_mails))
        if args.baseline_rev:
            old = baseline_source(args.baseline_rev, work / "baseline-src")
            old_config = make_desk(work / "baseline", old, None)
            old_run = [*python, "--config", str(old_config), "ingest"]
            name = f"maildesk ingest at {args.baseline_rev}"
            rows.append(Figures(name, old_run, maildesk_env(old), mails))
        reference = None
        venv = None if args.no_roundup else roundup_venv()
        if venv is not None:
            tracker = make_tracker(venv, work / "tracker")
            mailgw = [str(venv / "bin" / "roundup-mailgw"), str(tracker)]
            reference = Figures("roundup-mailgw (classic, sqlite)", mailgw, dict(os.environ), mails)
            rows.append(reference)
        measure(rows, args.n)
        print(f"{args.n} mails, one process each; {args.database_url or 'SQLite'}")
        report(rows, reference)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
