"""With MAILDESK_REQUIRE_SERVICES=1 a run passes only if no test was skipped, xfailed, xpassed
or deselected, and tests that used PostgreSQL and Dovecot passed; counted from each report.

Under pytest-xdist the tests run in worker processes and the reports reach the controller,
which judges: each test carries the servers it uses in its report (`user_properties`), and a
worker that deselects a test stops the run there, since only it sees the deselection.
"""

from __future__ import annotations

import pytest

from tests.services import services_required

NAME = "tests.skip_guard"
SERVICES_KEY = "maildesk-services"
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

    def __init__(self, *, in_worker: bool = False) -> None:
        self.in_worker = in_worker
        self.skipped: list[str] = []
        self.xfailed: list[str] = []
        self.xpassed: list[str] = []
        self.deselected = 0
        self.proven: set[str] = set()

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)
        if items and self.in_worker:
            raise pytest.UsageError(f"{len(items)} test(s) deselected with services required")

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        item.user_properties.append((SERVICES_KEY, sorted(services_used(item))))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.skipped:  # a module skipped as a whole (importorskip, allow_module_level)
            self.skipped.append(report.nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if hasattr(report, "wasxfail"):
            (self.xpassed if report.passed else self.xfailed).append(report.nodeid)
        elif report.skipped:
            self.skipped.append(report.nodeid)
        elif report.when == "call" and report.passed:
            self.proven |= set(dict(report.user_properties).get(SERVICES_KEY, ()))

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
        if self.in_worker:  # the controller sees every worker's reports and judges the run
            return
        problems = self.problems()
        if not problems:
            return
        print()  # printed, not given to the terminal reporter: `-p no:terminal` turns that off
        for problem in problems:
            print(f"MAILDESK_REQUIRE_SERVICES=1 and {problem}: failing the run", flush=True)
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config: pytest.Config) -> None:
    guard = SkipGuard(in_worker=hasattr(config, "workerinput"))  # set in xdist's workers
    if services_required() and config.pluginmanager.register(guard, "skip-guard") is None:
        raise pytest.UsageError("MAILDESK_REQUIRE_SERVICES=1 cannot run with the skip guard off")


def require_skip_guard(config: pytest.Config) -> None:
    """For the conftest that loads this module: `-p no:tests.skip_guard` is a usage error."""
    if services_required() and not config.pluginmanager.has_plugin(NAME):
        raise pytest.UsageError("MAILDESK_REQUIRE_SERVICES=1 cannot run with the skip guard off")
