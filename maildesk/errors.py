"""User-facing error types: each renders as one clear line."""

from __future__ import annotations


class MaildeskError(Exception):
    """An error a user can act on; `str()` is the one line the CLI prints."""


class ConfigError(MaildeskError):
    """The configuration file is missing, unreadable or invalid."""


class NotFound(MaildeskError):
    """A ticket, inbox item, agent or other record named by the user does not exist."""


class InvalidInput(MaildeskError):
    """An argument given by the user cannot be used."""


class TransientError(MaildeskError):
    """A failure worth retrying later (database locked, server unreachable)."""
