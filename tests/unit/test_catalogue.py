"""The service catalogue: a service is found by name in any case and brings queue and type."""

from __future__ import annotations

from pathlib import Path

from maildesk.config import parse_settings, validate_settings
from maildesk.services.catalogue import find_service, service_fields

SETTINGS = parse_settings(
    {
        "queues": [{"name": "general"}, {"name": "billing"}],
        "services": [
            {"name": "Invoices", "queue": "billing", "type": "request", "priority": "high"}
        ],
    },
    Path("."),
)


def test_a_service_is_found_by_its_name_in_any_case() -> None:
    assert find_service(SETTINGS, name=" invoices ") is SETTINGS.services[0]
    assert find_service(SETTINGS, name="fax") is None


def test_a_service_brings_its_queue_and_type_and_to_a_new_ticket_its_priority() -> None:
    [invoices] = SETTINGS.services

    assert service_fields(invoices) == {
        "service": "Invoices",
        "queue": "billing",
        "type": "request",
    }
    assert service_fields(invoices, new_ticket=True)["priority"] == "high"


def test_two_services_whose_names_differ_only_in_case_are_refused() -> None:
    twins = [{"name": "fax", "queue": "general"}, {"name": "FAX", "queue": "general"}]

    _settings, problems = validate_settings({"services": twins}, Path("."))

    assert problems == ["services[1].name: 'FAX' is already taken by services[0]"]
