"""The README's layer chain is the one import-linter checks (`python3 dev.py test` runs it)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def contract_layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [contract] = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    assert contract["containers"] == ["maildesk"] and contract["exhaustive"] is True
    return list(contract["layers"])


def readme_layers() -> list[str]:
    """The first column of the code block that follows the README's **Layout** paragraph."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("**Layout**") :]
    block = layout[layout.index("```\n") + 4 : layout.index("\n```", layout.index("```\n") + 4)]
    return [re.split(r"\s{2,}", line.strip())[0] for line in block.splitlines()]


def test_the_readme_shows_the_layer_chain_that_is_checked() -> None:
    assert readme_layers() == contract_layers()
