"""With MAILDESK_REQUIRE_SERVICES=1 a run passes only if no test was skipped, xfailed, xpassed
or deselected, and tests that used PostgreSQL and Dovecot passed; counted from each report.
"""

from __future__ import annotations

import pytest

from tests.services import services_required

NAME = "tests.skip_guard"
SERVICES = ("PostgreSQL", "Dovecot")


def services_used(item: pytest.Item) -> set[str]:
    """The outside servers this test talks to, read from its fixtures and parameters.

    PostgreSQL if it ran with `database_url[postgresql]` or asked for `postgres_url`, Dovecot
    if it asked for `dovecot_server`: fixtures that fail, not skip, when their server is missing.
    """
    fixtures = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    used = set()
    if "postgres_url" in fixtures or params.get("database_url") == "postgresql":
        used.add("PostgreSQL")
    if "dovecot_server" in fixtures:
        used.add("Dovecot")
    return used


class SkipGuard:
    """Counts outcomes itself, so no reporter option or plugin switch can hide them."""

    def __init__(self) -> None:
        self.skipped: list[str] = []
        self.xfailed: list[str] = []
        self.xpassed: list[str] = []
        self.deselected = 0
        self.uses: dict[str, set[str]] = {}
        self.proven: set[str] = set()

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.skipped:  # a module skipped as a whole (importorskip, allow_module_level)
            self.skipped.append(report.nodeid)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.uses = {item.nodeid: services_used(item) for item in session.items}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if hasattr(report, "wasxfail"):
            (self.xpassed if report.passed else self.xfailed).append(report.nodeid)
        elif report.skipped:
            self.skipped.append(report.nodeid)
        elif report.when == "call" and report.passed:
            self.proven |= self.uses.get(report.nodeid, set())

    def problems(self) -> list[str]:
        found = []
        for outcome, ids in (
            ("skipped", self.skipped),
            ("xfailed", self.xfailed),
            ("xpassed", self.xpassed),
        ):
            if ids:
                more = " …" if len(ids) > 3 else ""
                found.append(f"{len(ids)} test(s) {outcome}: {', '.join(ids[:3])}{more}")
        if self.deselected:
            found.append(f"{self.deselected} test(s) deselected (-k, -m, --deselect, --lf …)")
        missing = [name for name in SERVICES if name not in self.proven]
        return found + [f"no test that used {name} passed" for name in missing]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        problems = self.problems()
        if not problems:
            return
        print()  # printed, not given to the terminal reporter: `-p no:terminal` turns that off
        for problem in problems:
            print(f"MAILDESK_REQUIRE_SERVICES=1 and {problem}: failing the run", flush=True)
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config: pytest.Config) -> None:
    if services_required() and config.pluginmanager.register(SkipGuard(), "skip-guard") is None:
        raise pytest.UsageError("MAILDESK_REQUIRE_SERVICES=1 cannot run with the skip guard off")


def require_skip_guard(config: pytest.Config) -> None:
    """For the conftest that loads this module: `-p no:tests.skip_guard` is a usage error."""
    if services_required() and not config.pluginmanager.has_plugin(NAME):
        raise pytest.UsageError("MAILDESK_REQUIRE_SERVICES=1 cannot run with the skip guard off")
