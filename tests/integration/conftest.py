"""Integration fixtures: a private Dovecot per test, configured by `@pytest.mark.dovecot(...)`."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration.dovecot import (
    DOVECOT_MISSING,
    DovecotServer,
    dovecot_binary,
    dovecot_version,
)
from tests.services import missing_service


@pytest.fixture
def dovecot_server(request: pytest.FixtureRequest) -> Iterator[DovecotServer]:
    """A running Dovecot with one empty mailbox account; removed after the test.

    Options come from the `dovecot` marker: `imap_capability="IMAP4rev1 UIDPLUS"` replaces
    what the server advertises (to test fallbacks), `tls=True` also listens on `tls_port`
    with a self-signed certificate (`cert_file`) and offers STARTTLS.
    """
    binary = dovecot_binary()
    if binary is None:
        missing_service(DOVECOT_MISSING)
    if os.geteuid() != 0:
        missing_service("the private Dovecot for tests must be started as root")
    assert binary is not None
    version = dovecot_version(binary)
    if not version.startswith("2.3."):
        missing_service(f"dovecot {version} found; tests/integration/dovecot.py writes 2.3 config")
    marker = request.node.get_closest_marker("dovecot")
    server = DovecotServer(binary, **(marker.kwargs if marker else {}))
    try:
        server.start()
        yield server
    finally:
        server.remove()
