"""`maildesk blacklist list|add|remove`: entries from the config and from the database."""

from __future__ import annotations

import json

from maildesk.cli import blacklist
from tests.mails import mail
from tests.unit.cli.conftest import Shell


def entries(shell: Shell) -> list[tuple[str, str, str]]:
    result = shell.run(blacklist, "blacklist", "list", "--json")
    assert result.exit_code == 0, result.output
    return [(e["kind"], e["value"], e["source"]) for e in json.loads(result.stdout)]


def test_add_guesses_the_kind_and_list_shows_config_and_database_entries(shell: Shell) -> None:
    outputs = [
        shell.run(blacklist, "blacklist", "add", value).stdout
        for value in ("junk.example", "*@spam.example", "Mallory@Evil.test")
    ]

    assert outputs == [
        "blacklisted domain junk.example\n",
        "blacklisted pattern *@spam.example\n",
        "blacklisted address mallory@evil.test\n",
    ]
    assert entries(shell) == [
        ("address", "spammer@example.net", "config"),
        ("domain", "junk.example", "database"),
        ("pattern", "*@spam.example", "database"),
        ("address", "mallory@evil.test", "database"),
    ]


def test_a_blacklisted_sender_is_rejected_until_removed(shell: Shell) -> None:
    shell.run(blacklist, "blacklist", "add", "acme.test", "--note", "abuse")

    assert shell.receives(mail(message_id="a@acme.test")).outcome == "rejected"

    removed = shell.run(blacklist, "blacklist", "remove", "acme.test")

    assert removed.stdout == "removed 1 entry for acme.test\n"
    assert shell.receives(mail(message_id="b@acme.test")).outcome == "created"
