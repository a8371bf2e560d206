"""The `maildesk` command line: one typer group per module, each a thin call into services.

`commands.py` puts them all on the root app; `maildesk.entry` (the `maildesk` script) runs
`ingest` alone and guarded. `main` here serves scripts installed before that entry existed
(`maildesk = "maildesk.cli:main"`): it loads the whole CLI only when called.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    from maildesk.cli.commands import main as run

    run(argv)
