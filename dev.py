#!/usr/bin/env python3
"""Set-up in one command: `python3 dev.py start` runs maildesk, `python3 dev.py test` tests it.

Each creates ./.venv and installs what it needs (again only when pyproject.toml changed).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (dev.py may be run by an older python3)
        sys.exit(f"maildesk needs Python 3.11 or newer, this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    spec = f".[{extras}]" if extras else "."
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing maildesk{spec[1:]} into {VENV}", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True, cwd=ROOT)
    subprocess.run([*pip, "-e", spec], check=True, cwd=ROOT)
    stamp.write_text(digest)


def run(*args: str) -> int:
    print("+ " + " ".join(args), flush=True)
    return subprocess.run(args, cwd=ROOT).returncode


def start(extra: list[str]) -> int:
    """Embedded default: SQLite under ./var, SMTP on 127.0.0.1:2525, sent mail in ./var/sent."""
    ensure_venv("")
    maildesk = str(BIN / "maildesk")
    if not (ROOT / "maildesk.toml").exists() and run(maildesk, "init", ".") != 0:
        return 1
    if run(maildesk, "--config", "maildesk.toml", "db", "upgrade") != 0:
        return 1
    return run(maildesk, "--config", "maildesk.toml", "run", *extra)


# pytest-xdist: one worker process per core (at most four); `dev.py test -n 0` runs in one.
WORKERS = ("-n", "auto", "--maxprocesses", "4")


def test(extra: list[str]) -> int:
    """ruff (lint + format), mypy, the import layers, then pytest under coverage (branch).

    The total must reach `fail_under` of pyproject.toml; with pytest args (a part of the
    suite, most likely) the report is printed but not held to it.
    """
    ensure_venv("test")
    py = str(BIN / "python")
    cov = [py, "-m", "coverage"]
    steps = [
        [py, "-m", "ruff", "check", "maildesk", "tests", "bench", "dev.py"],
        [py, "-m", "ruff", "format", "--check", "maildesk", "tests", "bench", "dev.py"],
        [py, "-m", "mypy", "maildesk"],
        [str(BIN / "lint-imports"), "--no-logo"],  # the layer chain in pyproject.toml
        [*cov, "erase"],
        [*cov, "run", "-m", "pytest", "-p", "no:cacheprovider", *WORKERS, *extra],
        [*cov, "combine", "--quiet"],
        [*cov, "report", *(["--fail-under=0"] if extra else [])],
    ]
    for step in steps:
        code = run(*step)
        if code != 0:
            return code
    return 0


def main() -> int:
    commands = {"start": start, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print("usage: python3 dev.py start|test [args…]", file=sys.stderr)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
