"""Bulk import transport: raw messages out of an mbox file or a Maildir folder. No policy."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path

from maildesk.errors import InvalidInput


def _mbox_messages(path: Path) -> Iterator[bytes]:
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            yield box.get_bytes(key)
    finally:
        box.close()


def _maildir_messages(path: Path) -> Iterator[bytes]:
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in sorted(box.iterkeys()):
        yield box.get_bytes(key)


def count_messages(kind: str, path: Path) -> int:
    box = (
        mailbox.mbox(path, create=False) if kind == "mbox" else mailbox.Maildir(path, create=False)
    )
    try:
        return len(box)
    finally:
        box.close()


def read_messages(kind: str, path: Path) -> Iterator[bytes]:
    """Each message's raw bytes, in file (mbox) or name (Maildir) order."""
    if kind == "mbox":
        if not path.is_file():
            raise InvalidInput(f"not an mbox file: {path}")
        return _mbox_messages(path)
    if not (path / "cur").is_dir() and not (path / "new").is_dir():
        raise InvalidInput(f"not a Maildir folder (no cur/ or new/): {path}")
    return _maildir_messages(path)
