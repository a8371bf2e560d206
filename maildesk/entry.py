"""The `maildesk` program. Every command goes to the typer CLI, except `ingest`: an MTA runs
it once per mail, and what its exit code says decides between a retry and a bounce.

So `ingest` runs inside a guard: any failure before the accept commit — a config that is
missing or unreadable, an unknown option or a missing value, a package that cannot be
imported, a database that cannot be opened — exits 75 (EX_TEMPFAIL) with one line on stderr,
and the MTA tries again later. A failure after the commit costs at most a duplicate, which
the next delivery recognises. This module imports only the standard library (and our own
stdlib-only `argv` and `errors`) before it knows which path to take; `ingest --queue`
loads only what storing needs (`maildesk.ingest.pipe_queue`), plain `ingest` only what
accepting and processing need (`maildesk.ingest.pipe_ingest`): neither the CLI nor typer.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from maildesk.argv import CommandLine, UsageError, split_command
from maildesk.errors import MaildeskError

EX_TEMPFAIL = 75


def one_line(exc: BaseException) -> str:
    """What went wrong, in one line: a user error or a usage error says itself."""
    formatted = getattr(exc, "format_message", None)  # click's usage errors
    if callable(formatted):
        text = str(formatted())
    elif isinstance(exc, (MaildeskError, UsageError)):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    lines = text.strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def guarded(run: Callable[[], int]) -> int:
    """`run`'s exit code: 0 when it succeeded, else 75, after one line on stderr."""
    try:
        code = run()
    except SystemExit as exc:
        code = exc.code or 0 if isinstance(exc.code, int | None) else EX_TEMPFAIL
    except BaseException as exc:
        print(f"maildesk: ingest: {one_line(exc)}", file=sys.stderr, flush=True)
        return EX_TEMPFAIL
    return 0 if code == 0 else EX_TEMPFAIL


def _queue(line: CommandLine) -> int:
    from maildesk.ingest.pipe_queue import parse_request, queue_mails

    queue_mails(parse_request(line.rest), config=line.config)
    return 0


def _ingest(line: CommandLine) -> int:
    from maildesk.ingest.pipe_ingest import ingest_mails
    from maildesk.ingest.pipe_queue import parse_request

    ingest_mails(parse_request(line.rest), config=line.config)
    return 0


def _help(argv: Sequence[str]) -> int:
    from maildesk.cli.ingest_cmd import run_alone

    return run_alone(argv)


def _command(argv: Sequence[str]) -> CommandLine | None:
    try:
        return split_command(argv)
    except UsageError:
        return None  # the CLI names the mistake


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    line = _command(args)
    if line is None or line.command != "ingest":
        from maildesk.cli.commands import main as cli_main

        cli_main(args)
        return
    if "--help" in line.rest:
        sys.exit(guarded(lambda: _help(args)))
    if "--queue" in line.rest:
        sys.exit(guarded(lambda: _queue(line)))
    sys.exit(guarded(lambda: _ingest(line)))
