"""What `maildesk run` writes to its log: a line per processed mail and per mail sent, as text
or as one JSON object per line, and the SMTP conversation only when debugging.
"""

from __future__ import annotations

import io
import json
import logging
import re
from typing import Any

from maildesk.daemon.logs import SMTP_CHATTER, logging_to
from tests.conftest import Desk
from tests.mails import mail


def lines_of(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def objects_of(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines_of(stream)]


def test_in_json_a_processed_mail_is_one_object_with_its_source_outcome_ticket_and_duration(
    desk: Desk,
) -> None:
    stream = io.StringIO()
    with logging_to("INFO", "json", stream):
        outcome = desk.receives(mail(subject="Printer on fire"))

    [processed] = [o for o in objects_of(stream) if o["logger"] == "maildesk.pipeline.runner"]
    assert processed["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", processed["time"])
    assert processed["source"] == "ingest"
    assert processed["inbox_id"] == outcome.item_id
    assert (processed["outcome"], processed["ticket"]) == ("created", outcome.ticket)
    assert processed["duration_ms"] > 0
    assert processed["message"].startswith(f"inbox item {outcome.item_id} from ingest: created")


def test_in_json_each_mail_sent_is_one_object_with_its_outbox_id_kind_recipients_and_result(
    desk: Desk,
) -> None:
    desk.receives(mail(subject="Printer on fire"))  # queued: an ack, a notice to each agent
    stream = io.StringIO()
    with logging_to("INFO", "json", stream):
        desk.sent()

    sent = [o for o in objects_of(stream) if o["logger"] == "maildesk.sender.delivery"]
    assert sorted(o["kind"] for o in sent) == ["ack", "notify", "notify"]
    assert {(o["result"], o["recipients"]) for o in sent} == {("sent", 1)}
    assert len({o["outbox_id"] for o in sent}) == 3
    assert all(o["message"] == f"outbox {o['outbox_id']} ({o['kind']}, 1 recipients): sent"
               for o in sent)  # fmt: skip


def test_in_text_a_line_starts_with_its_utc_time_level_and_logger(desk: Desk) -> None:
    stream = io.StringIO()
    with logging_to("INFO", "text", stream):
        outcome = desk.receives(mail(subject="Printer on fire"))

    [line] = [x for x in lines_of(stream) if "maildesk.pipeline.runner" in x]
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    expected = rf"{stamp} INFO maildesk.pipeline.runner: inbox item {outcome.item_id} from ingest"
    assert re.match(expected + rf": created {outcome.ticket} in \d+\.\d ms", line)


def test_a_record_with_an_exception_carries_its_traceback_in_json() -> None:
    stream = io.StringIO()
    with logging_to("INFO", "json", stream):
        try:
            raise ValueError("the relay said no")
        except ValueError:
            logging.getLogger("maildesk.sender").exception("sending failed")

    [entry] = objects_of(stream)
    assert entry["message"] == "sending failed"
    assert "ValueError: the relay said no" in entry["exception"]


def test_the_smtp_conversation_is_logged_only_at_debug() -> None:
    chatter = logging.getLogger(SMTP_CHATTER)  # aiosmtpd: a line per SMTP command
    quiet, verbose = io.StringIO(), io.StringIO()
    with logging_to("INFO", "text", quiet):
        chatter.info("('127.0.0.1', 40000) >> b'EHLO client'")
        chatter.warning("('127.0.0.1', 40000) connection lost")
    with logging_to("DEBUG", "text", verbose):
        chatter.info("('127.0.0.1', 40000) >> b'EHLO client'")

    assert [line.split(": ", 1)[1] for line in lines_of(quiet)] == [
        "('127.0.0.1', 40000) connection lost"
    ]
    assert "EHLO client" in verbose.getvalue()


def test_the_loggers_are_as_they_were_after_the_daemon_logged() -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers), logging.getLogger(SMTP_CHATTER).level)
    with logging_to("DEBUG", "json", io.StringIO()):
        assert root.level == logging.DEBUG
    assert (root.level, list(root.handlers), logging.getLogger(SMTP_CHATTER).level) == before
