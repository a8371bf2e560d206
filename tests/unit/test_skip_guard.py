"""The skip guard (tests/skip_guard.py) run on a small inner project in its own pytest process.

The inner conftest loads the real guard and names its stand-in fixtures as the real suite does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
PREFIX, SUFFIX = "MAILDESK_REQUIRE_SERVICES=1 and ", ": failing the run"
NO_POSTGRESQL = "no test that used PostgreSQL passed"
NO_DOVECOT = "no test that used Dovecot passed"

INNER_CONFTEST = """
import pytest

pytest_plugins = ["tests.skip_guard"]


def pytest_configure(config):
    from tests.skip_guard import require_skip_guard

    require_skip_guard(config)


@pytest.fixture(scope="session")
def postgres_url():
    return "postgresql+psycopg://stand-in/test"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    return "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.fixture
def dovecot_server():
    return "a Dovecot stand-in"
"""

SERVICE_TESTS = """
def test_a_database_answers(database_url):
    assert database_url

def test_a_mailbox_answers(dovecot_server):
    assert dovecot_server

def test_plain():
    assert True
"""

SKIPS = {
    "a skip marker": "import pytest\n@pytest.mark.skip\ndef test_x():\n    pass\n",
    "a skip in the test": "import pytest\ndef test_x():\n    pytest.skip('no server')\n",
    "a skip in a fixture": (
        "import pytest\n@pytest.fixture\ndef server():\n    pytest.skip('no server')\n"
        "def test_x(server):\n    pass\n"
    ),
}


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """An inner project whose three tests pass and use PostgreSQL and Dovecot, in CI mode."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # `tests.skip_guard` is this repository's
    monkeypatch.setenv("MAILDESK_REQUIRE_SERVICES", "1")
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # it needs none; starts 4x faster
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(test_services=SERVICE_TESTS)
    return pytester


def problems(result: pytest.RunResult) -> list[str]:
    """The guard's lines, one per problem, without their common prefix and suffix."""
    lines = [line for line in result.outlines if line.startswith(PREFIX)]
    return [line.removeprefix(PREFIX).removesuffix(SUFFIX) for line in lines]


def test_a_run_in_which_postgresql_and_dovecot_tests_passed_passes(inner: pytest.Pytester) -> None:
    result = inner.runpytest_subprocess()
    assert (result.ret, problems(result)) == (pytest.ExitCode.OK, [])
    result.assert_outcomes(passed=4)


def test_a_test_that_asks_for_postgres_url_counts_as_a_postgresql_test(
    inner: pytest.Pytester,
) -> None:
    inner.makepyfile(test_direct="def test_schema(postgres_url):\n    assert postgres_url\n")
    args = ["test_direct.py", "test_services.py::test_a_mailbox_answers"]
    result = inner.runpytest_subprocess(*args)
    assert (result.ret, problems(result)) == (pytest.ExitCode.OK, [])


def test_k_in_pytest_addopts_deselects_and_fails_the_run(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_ADDOPTS", "-k sqlite")
    result = inner.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert problems(result) == [
        "3 test(s) deselected (-k, -m, --deselect, --lf …)",
        NO_POSTGRESQL,
        NO_DOVECOT,
    ]


@pytest.mark.parametrize(
    "args", [["-k", "not plain"], ["--deselect", "test_services.py::test_plain"]], ids=str
)
def test_deselecting_a_test_that_needs_no_service_fails_the_run(
    inner: pytest.Pytester, args: list[str]
) -> None:
    result = inner.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert problems(result) == ["1 test(s) deselected (-k, -m, --deselect, --lf …)"]


@pytest.mark.parametrize("source", SKIPS.values(), ids=SKIPS.keys())
def test_a_skipped_test_fails_the_run(inner: pytest.Pytester, source: str) -> None:
    inner.makepyfile(test_skip=source)
    result = inner.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert problems(result) == ["1 test(s) skipped: test_skip.py::test_x"]


def test_a_skipped_module_fails_the_run(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_skip="import pytest\npytest.importorskip('no_such_module_here')\n")
    result = inner.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert problems(result) == ["1 test(s) skipped: test_skip.py"]


def test_a_skip_fails_the_run_with_the_terminal_reporter_off(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_skip=SKIPS["a skip in the test"])
    result = inner.runpytest_subprocess("-p", "no:terminal")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert problems(result) == ["1 test(s) skipped: test_skip.py::test_x"]


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("@pytest.mark.xfail\ndef test_x():\n    assert False\n", "xfailed"),
        ("def test_x():\n    pytest.xfail('known bug')\n", "xfailed"),
        ("@pytest.mark.xfail\ndef test_x():\n    pass\n", "xpassed"),
    ],
    ids=["an xfail marker", "pytest.xfail in the test", "an xpass"],
)
def test_an_expected_failure_fails_the_run(
    inner: pytest.Pytester, source: str, problem: str
) -> None:
    inner.makepyfile(test_xfail="import pytest\n" + source)
    result = inner.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert problems(result) == [f"1 test(s) {problem}: test_xfail.py::test_x"]


@pytest.mark.parametrize(
    ("selected", "missing"),
    [
        (["test_services.py::test_a_database_answers[sqlite]"], [NO_POSTGRESQL, NO_DOVECOT]),
        (["test_services.py::test_a_mailbox_answers"], [NO_POSTGRESQL]),
        (["test_services.py::test_a_database_answers"], [NO_DOVECOT]),
        (["--collect-only"], [NO_POSTGRESQL, NO_DOVECOT]),
    ],
    ids=["sqlite only", "no PostgreSQL", "no Dovecot", "collect only"],
)
def test_a_run_without_a_passed_postgresql_or_dovecot_test_fails(
    inner: pytest.Pytester, selected: list[str], missing: list[str]
) -> None:
    result = inner.runpytest_subprocess(*selected)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert problems(result) == missing


def test_a_failed_postgresql_test_does_not_count_as_one_that_ran(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_direct="def test_schema(postgres_url):\n    assert not postgres_url\n")
    args = ["test_direct.py", "test_services.py::test_a_mailbox_answers"]
    result = inner.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert problems(result) == [NO_POSTGRESQL]


@pytest.mark.parametrize("plugin", ["tests.skip_guard", "skip-guard"])
def test_switching_the_guard_off_is_a_usage_error(inner: pytest.Pytester, plugin: str) -> None:
    inner.makepyfile(test_skip=SKIPS["a skip in the test"])
    result = inner.runpytest_subprocess("-p", f"no:{plugin}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*MAILDESK_REQUIRE_SERVICES=1 cannot run with the skip guard off"])


def test_without_required_services_a_skip_is_only_a_skip(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAILDESK_REQUIRE_SERVICES")
    inner.makepyfile(test_skip=SKIPS["a skip in the test"])
    result = inner.runpytest_subprocess("-k", "not plain")
    assert (result.ret, problems(result)) == (pytest.ExitCode.OK, [])
    result.assert_outcomes(passed=3, skipped=1, deselected=1)


XDIST = ("-p", "xdist", "-n", "2")  # the tests in two worker processes, as dev.py runs them


def test_in_worker_processes_the_controller_sees_which_servers_the_tests_used(
    inner: pytest.Pytester,
) -> None:
    result = inner.runpytest_subprocess(*XDIST)
    assert (result.ret, problems(result)) == (pytest.ExitCode.OK, [])
    result.assert_outcomes(passed=4)


def test_in_worker_processes_a_skip_still_fails_the_run(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_skip=SKIPS["a skip in the test"])
    result = inner.runpytest_subprocess(*XDIST)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert problems(result) == ["1 test(s) skipped: test_skip.py::test_x"]


def test_in_worker_processes_a_deselection_stops_the_run(inner: pytest.Pytester) -> None:
    result = inner.runpytest_subprocess(*XDIST, "-k", "not plain")
    # Without the guard the three tests left would pass; with it the worker stops at once.
    assert result.ret in (pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.INTERNAL_ERROR)
    assert "passed" not in result.outlines[-1]
