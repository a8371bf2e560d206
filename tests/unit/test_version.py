"""`maildesk.__version__` is the version the package is built and installed as."""

from __future__ import annotations

import tomllib
from pathlib import Path

import maildesk

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_version_maildesk_reports_is_the_one_in_pyproject() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]

    assert maildesk.__version__ == project["version"]
