"""The `maildesk` command line: one typer group per module, each a thin call into services.

`commands.py` puts them all on the root app; `maildesk.entry` runs `ingest` alone.
"""
