"""Queue routing: a new ticket lands in the queue of the desk address the mail was sent to."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk.config import Settings
from maildesk.rules.routing import choose_queue
from tests.conftest import make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, "sqlite:///var/maildesk.db")


@pytest.mark.parametrize(
    ("recipients", "queue"),
    [
        (["support@example.com"], "general"),
        (["billing@example.com"], "billing"),
        (["Billing@Example.COM"], "billing"),
        (["billing+TKT-7.abc@example.com"], "billing"),
        (["carol@acme.test", "billing@example.com"], "billing"),
        (["billing@example.com", "support@example.com"], "billing"),
    ],
)
def test_the_first_desk_address_that_received_the_mail_picks_the_queue(
    settings: Settings, recipients: list[str], queue: str
) -> None:
    assert choose_queue(settings, recipients) == queue


def test_mail_to_no_queue_address_lands_in_the_first_queue(settings: Settings) -> None:
    assert choose_queue(settings, ["billing@elsewhere.example", "bcc@acme.test"]) == "general"
    assert choose_queue(settings, []) == "general"


def test_without_configured_queues_everything_lands_in_general(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "sqlite:///var/maildesk.db", queues=[], agents=[])

    assert choose_queue(settings, ["billing@example.com"]) == "general"
