"""Routing rules: name registries of conditions and actions, rule specs from TOML, the engine."""
