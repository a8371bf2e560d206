"""`maildesk status [--json]`: the desk at a glance, read from the database only."""

from __future__ import annotations

import json

from maildesk.cli import status_cmd
from tests.mails import mail
from tests.unit.cli.conftest import Shell


def test_a_processed_mail_and_a_waiting_one_are_counted(shell: Shell) -> None:
    shell.receives(mail())
    shell.accepts(mail(sender="dave@acme.test", subject="Still waiting"))

    text = shell.run(status_cmd, "status")
    data = shell.run(status_cmd, "status", "--json")

    assert (text.exit_code, data.exit_code) == (0, 0)
    lines = text.stdout.splitlines()
    assert lines[0] == "inbox:  received 1, processed 1, held 0, failed 0, dropped 0, rejected 0"
    assert lines[1] == "outbox: queued 3, sent 0, failed 0"
    assert lines[3] == "sla:    at risk 0, breached 0 (open tickets)"
    assert lines[4].startswith("oldest waiting inbox item: since ")
    report = json.loads(data.stdout)
    assert set(report) == {
        "at",
        "inbox",
        "outbox",
        "held",
        "failed",
        "sla",
        "oldest_waiting_inbox",
        "oldest_queued_outbox",
    }
    assert report["inbox"]["received"] == 1 and report["outbox"]["queued"] == 3
    assert report["oldest_waiting_inbox"]["since"].endswith("Z")
