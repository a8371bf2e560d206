"""Configuration: the example documents every key; bad keys are named."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from maildesk.config import Settings, load_settings, parse_settings
from maildesk.errors import ConfigError

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    found = []
    for name, field in model.model_fields.items():
        if name == "base_dir":
            continue
        annotation: Any = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += _keys(annotation, f"{name}.")
        elif isinstance(inner, type) and issubclass(inner, BaseModel):
            found += _keys(inner, f"{name}.")
        else:
            found.append(prefix + name)
    return found


def test_the_example_config_documents_every_setting() -> None:
    text = EXAMPLE.read_text()
    missing = [
        k for k in _keys(Settings) if not re.search(rf"^#? ?{k.split('.')[-1]} =", text, re.M)
    ]
    assert missing == []


def test_the_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(EXAMPLE)
    assert settings.desk.address == "support@example.com"
    assert settings.effective_queues()[0].name == "general"


def test_each_bad_key_is_named() -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings({"desk": {"adress": "x"}, "smtp": {"port": "high"}}, Path("."))
    assert "desk.adress: unknown key" in str(error.value)
    assert "smtp.port:" in str(error.value)


def test_an_agent_naming_an_unknown_queue_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown queue 'sales'"):
        parse_settings({"agents": [{"email": "a@example.com", "queues": ["sales"]}]}, Path("."))


def test_relative_sqlite_paths_are_anchored_at_the_config_folder(tmp_path: Path) -> None:
    settings = parse_settings({"database": {"url": "sqlite:///var/x.db"}}, tmp_path)
    assert settings.database_url() == f"sqlite:///{tmp_path.resolve()}/var/x.db"


def test_the_desk_time_zone_is_an_iana_zone_and_a_bad_one_is_named() -> None:
    settings = parse_settings({"desk": {"timezone": "Europe/Berlin"}}, Path("."))
    assert settings.desk.zone.key == "Europe/Berlin"
    assert parse_settings({}, Path(".")).desk.zone.key == "UTC"

    with pytest.raises(ConfigError) as error:
        parse_settings({"desk": {"timezone": "Mars/Olympus_Mons"}}, Path("."))
    assert "desk.timezone: unknown time zone 'Mars/Olympus_Mons'" in str(error.value)
