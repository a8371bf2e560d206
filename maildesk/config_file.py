"""Which config file, its TOML, and the database URL in it: standard library only.

`config.py` validates the whole file on top of this; the queue-only accept of
`maildesk ingest --queue` needs nothing but the `[database] url`, and reads it here.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from maildesk.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///var/maildesk.db"
_SQLITE = "sqlite:///"


def config_path(explicit: Path | None) -> Path:
    """--config, else $MAILDESK_CONFIG, else ./maildesk.toml."""
    if explicit is not None:
        return explicit
    env = os.environ.get("MAILDESK_CONFIG")
    return Path(env) if env else Path("maildesk.toml")


def read_config(path: Path) -> dict[str, Any]:
    """The TOML of a config file; a missing, unreadable or malformed file is a ConfigError."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path} (run `maildesk init`)") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def anchored_url(url: str, base_dir: Path) -> str:
    """The database URL with a relative SQLite path anchored at the config's folder."""
    if url.startswith(_SQLITE) and not url.startswith(_SQLITE + "/") and ":memory:" not in url:
        return _SQLITE + str((base_dir / url[len(_SQLITE) :]).resolve())
    return url


def database_url(path: Path) -> str:
    """The `[database] url` of the config file at `path`, anchored; nothing else is checked."""
    section = read_config(path).get("database", {})
    url = section.get("url", DEFAULT_DATABASE_URL) if isinstance(section, dict) else None
    if not isinstance(url, str):
        raise ConfigError(f"{path}: [database] url must be a string")
    return anchored_url(url, path.resolve().parent)
