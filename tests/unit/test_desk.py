"""The Desk: the current secret, the desk's identity, its time zone and its retry schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from maildesk.desk import Desk
from maildesk.files import AttachmentStore
from maildesk.outbound.render import Renderer
from maildesk.timing.clock import FixedClock
from tests.conftest import START, make_settings


def desk_of(tmp_path: Path, **overrides: Any) -> Desk:
    settings = make_settings(tmp_path, "sqlite:///var/maildesk.db", **overrides)
    return Desk(
        settings=settings,
        clock=FixedClock(START),
        store=AttachmentStore(tmp_path / "files"),
        secrets=("new-secret", "old-secret"),
        renderer=Renderer(None),
    )


def test_the_first_secret_signs_and_the_identity_is_the_configured_desk(tmp_path: Path) -> None:
    desk = desk_of(tmp_path)

    assert desk.secret == "new-secret"
    assert (desk.identity.name, desk.identity.address) == ("Example Support", "support@example.com")


def test_times_for_people_are_in_the_desks_zone_which_is_named(tmp_path: Path) -> None:
    desk = desk_of(tmp_path, desk={"timezone": "Europe/Berlin"})

    assert desk.local_time(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) == "2026-11-23 10:00 CET"
    assert desk.local_time(datetime(2026, 7, 1, 9, 0, tzinfo=UTC)) == "2026-07-01 11:00 CEST"


def test_the_retry_schedule_comes_from_the_outbound_settings(tmp_path: Path) -> None:
    desk = desk_of(
        tmp_path,
        outbound={"retry_first": "2m", "retry_max_interval": "10m", "give_up_after": "1h"},
    )

    backoff = desk.backoff()

    assert [backoff.delay(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (2, 4, 8, 10)]
    assert not backoff.exhausted(7)  # 2+4+8+10+10+10+10 = 54 minutes of waiting
    assert backoff.exhausted(8)  # 64 minutes: more than the hour
