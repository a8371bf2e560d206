"""`maildesk ingest` run as Postfix's pipe(8) runs it: its own process, the mail on stdin, no
terminal, a bare environment. Whatever goes wrong before the accept commit is exit 75
(EX_TEMPFAIL: the MTA retries) with one line on stderr — never a bounce to the customer.
`ingest --queue` only stores, loading none of the heavy packages; plain `ingest` processes
too, loading none of the daemon's, the reports' or the tables'."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import maildesk
from maildesk.entry import EX_TEMPFAIL
from tests.integration.test_cli import write_config
from tests.mails import mail

ROOT = Path(maildesk.__file__).resolve().parent.parent
MODES = {"plain": (), "queue": ("--queue",)}
NOBODY = 65534
HEAVY = ("aiosmtpd", "aioimaplib", "alembic", "apscheduler", "matplotlib", "prometheus_client")
#: Mail is queued as drafts and rendered by the sender, so processing needs no Jinja2 either.
NOT_FOR_PLAIN_INGEST = ("jinja2", *HEAVY, "lingua", "rich")
NOT_FOR_QUEUE = ("sqlmodel", "typer", *NOT_FOR_PLAIN_INGEST)


@dataclass(frozen=True)
class Delivery:
    code: int
    out: str
    err: str


def deliver(
    *args: str | Path,
    cwd: Path,
    stdin: bytes | None = None,
    shadows: Path | None = None,
    as_nobody: bool = False,
    profile_imports: bool = False,
) -> Delivery:
    """`maildesk ARGS` with the mail on stdin, as an MTA starts it."""
    path = [str(shadows)] if shadows else []
    env = {"PATH": os.defpath, "PYTHONPATH": os.pathsep.join([*path, str(ROOT)])}
    if not as_nobody:  # coverage's data files are root's: an unprivileged run cannot write one
        env.update({k: v for k, v in os.environ.items() if k.startswith("COVERAGE")})
    if profile_imports:
        env["PYTHONPROFILEIMPORTTIME"] = "1"
    command = [sys.executable, "-m", "maildesk", *map(str, args)]
    if as_nobody:
        command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
    done = subprocess.run(
        command,
        input=mail(message_id="pipe@acme.test") if stdin is None else stdin,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    return Delivery(done.returncode, done.stdout.decode(), done.stderr.decode())


def assert_tempfail(delivery: Delivery) -> str:
    assert (delivery.code, delivery.out) == (EX_TEMPFAIL, "")
    assert delivery.err.startswith("maildesk: ") and delivery.err.count("\n") == 1
    assert "Traceback" not in delivery.err
    return delivery.err


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A desk with a migrated SQLite database."""
    path = write_config(tmp_path / "maildesk.toml")
    done = deliver("--config", path, "db", "upgrade", cwd=tmp_path, stdin=b"")
    assert done.code == 0, done.err
    return path


@pytest.fixture
def unreadable_config() -> Iterator[Path]:
    """A config file only root may read, in a folder anyone may enter."""
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)
        path = write_config(Path(folder) / "maildesk.toml")
        path.chmod(0)
        yield path


@pytest.fixture(params=list(MODES))
def mode(request: pytest.FixtureRequest) -> tuple[str, ...]:
    return MODES[request.param]


def test_a_config_the_pipe_user_cannot_read_is_tempfail(
    unreadable_config: Path, mode: tuple[str, ...], tmp_path: Path
) -> None:
    as_nobody = os.geteuid() == 0  # root reads any file: run as the pipe(8) user would
    if as_nobody and shutil.which("setpriv") is None:
        pytest.fail("running as root needs setpriv(1) to drop to an unprivileged user")
    done = deliver(
        "--config", unreadable_config, "ingest", *mode, cwd=tmp_path, as_nobody=as_nobody
    )

    # plain ingest: typer checks the path is readable; --queue: reading it fails
    assert re.search("is not readable|Permission denied", assert_tempfail(done))


def test_a_config_that_is_a_folder_is_tempfail(mode: tuple[str, ...], tmp_path: Path) -> None:
    assert "cannot read config" in assert_tempfail(
        deliver("--config", tmp_path, "ingest", *mode, cwd=tmp_path)
    )


def test_a_missing_config_is_tempfail(mode: tuple[str, ...], tmp_path: Path) -> None:
    # no --config, no $MAILDESK_CONFIG, and no ./maildesk.toml in the MTA's working folder
    assert "config file not found" in assert_tempfail(deliver("ingest", *mode, cwd=tmp_path))


@pytest.mark.parametrize(
    "words",
    [["--frobnicate"], ["--to"], ["--to", "support@example.com", "billing@example.com"]],
    ids=["unknown option", "bare --to", "second recipient of --to read as a FILE"],
)
def test_a_mistake_in_the_pipe_command_is_tempfail(
    config: Path, mode: tuple[str, ...], words: list[str], tmp_path: Path
) -> None:
    done = deliver("--config", config, "ingest", *mode, *words, cwd=tmp_path)

    assert_tempfail(done)


def test_a_database_that_cannot_be_opened_is_tempfail(
    mode: tuple[str, ...], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("these are notes, not a database\n" * 10)
    path = write_config(tmp_path / "maildesk.toml", database_url=f"sqlite:///{notes}")

    assert_tempfail(deliver("--config", path, "ingest", *mode, cwd=tmp_path))


def test_a_database_server_that_is_down_is_tempfail(
    mode: tuple[str, ...], tmp_path: Path, closed_port: int
) -> None:
    url = f"postgresql+psycopg://maildesk@127.0.0.1:{closed_port}/maildesk"
    path = write_config(tmp_path / "maildesk.toml", database_url=url)

    assert_tempfail(deliver("--config", path, "ingest", *mode, cwd=tmp_path))


def broken_package(folder: Path, name: str) -> Path:
    """A folder whose `name` package fails to import, put first on the path."""
    (folder / name).mkdir(parents=True)
    (folder / name / "__init__.py").write_text("raise ImportError('half-upgraded install')\n")
    return folder


def test_a_package_that_cannot_be_imported_is_tempfail(config: Path, tmp_path: Path) -> None:
    shadows = broken_package(tmp_path / "site", "sqlalchemy")

    done = deliver("--config", config, "ingest", cwd=tmp_path, shadows=shadows)

    assert "ImportError: half-upgraded install" in assert_tempfail(done)


def test_a_driver_that_cannot_be_imported_is_tempfail_for_the_queue(
    tmp_path: Path, closed_port: int
) -> None:
    shadows = broken_package(tmp_path / "site", "psycopg")
    url = f"postgresql+psycopg://maildesk@127.0.0.1:{closed_port}/maildesk"
    path = write_config(tmp_path / "maildesk.toml", database_url=url)

    done = deliver("--config", path, "ingest", "--queue", cwd=tmp_path, shadows=shadows)

    assert "ImportError: half-upgraded install" in assert_tempfail(done)


def test_a_queued_mail_is_accepted_and_the_next_tick_makes_it_a_ticket(
    config: Path, tmp_path: Path
) -> None:
    queued = deliver(
        "--config", config, "ingest", "--queue", "--json", "--to=support@example.com", cwd=tmp_path
    )
    ticked = deliver("--config", config, "tick", cwd=tmp_path, stdin=b"")
    listed = deliver("--config", config, "ticket", "list", "--json", cwd=tmp_path, stdin=b"")

    assert (queued.code, queued.err) == (0, "")
    assert '"outcome": "queued"' in queued.out and '"message_id": "pipe@acme.test"' in queued.out
    assert ticked.code == 0, ticked.err
    assert '"ref": "TKT-1"' in listed.out and '"subject": "Printer on fire"' in listed.out


def imported(delivery: Delivery) -> set[str]:
    """The top-level packages a process imported, from its -X importtime lines."""
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", delivery.err, re.M)
    assert names, "no import profile on stderr"
    return {name.split(".")[0] for name in names}


def test_ingest_queue_imports_none_of_the_heavy_packages(config: Path, tmp_path: Path) -> None:
    done = deliver("--config", config, "ingest", "--queue", cwd=tmp_path, profile_imports=True)

    assert done.code == 0
    assert imported(done) & set(NOT_FOR_QUEUE) == set()
    assert "sqlalchemy" not in imported(done)


def test_plain_ingest_imports_nothing_of_the_daemon_the_reports_or_tables(
    config: Path, tmp_path: Path
) -> None:
    done = deliver("--config", config, "ingest", "--json", cwd=tmp_path, profile_imports=True)

    assert done.code == 0 and '"outcome": "created"' in done.out
    assert imported(done) & set(NOT_FOR_PLAIN_INGEST) == set()
