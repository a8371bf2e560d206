"""Skip or fail tests that need an outside service (Dovecot, PostgreSQL).

On a laptop a missing service skips with a clear reason; in CI (MAILDESK_REQUIRE_SERVICES=1)
the same absence fails, so a green CI run means the integration tests really ran.
"""

from __future__ import annotations

import os

import pytest


def services_required() -> bool:
    return os.environ.get("MAILDESK_REQUIRE_SERVICES", "") not in ("", "0")


def missing_service(reason: str) -> None:
    """Skip (laptop) or fail (CI) the calling test because a service is absent."""
    if services_required():
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)
