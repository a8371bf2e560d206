"""Content-addressed attachment files, the store beside the database: once by sha256, atomically."""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
from pathlib import Path

_EXCLUSIVE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
_NAMES = itertools.count()  # with the process and thread: a temporary name no one else uses


class AttachmentStore:
    """Files live at `<root>/<sha[:2]>/<sha>`; a name is never taken from the mail."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes, sha256: str = "") -> str:
        """Store `data` under its sha256 (given when already worked out) unless it is there;
        written to a temporary name and renamed, so a file under its name is whole."""
        sha = sha256 or hashlib.sha256(data).hexdigest()
        folder = os.path.join(self.root, sha[:2])
        target = os.path.join(folder, sha)
        if os.path.exists(target):
            return sha
        fd, tmp = _create(folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()


def _create(folder: str) -> tuple[int, str]:
    """A new temporary file in `folder` (made the first time it is needed), and its path. A
    name taken already (left by a killed process whose pid and thread came back) is passed."""
    while True:
        path = os.path.join(folder, f".tmp-{os.getpid()}-{threading.get_ident()}-{next(_NAMES)}")
        try:
            return _open(folder, path), path
        except FileExistsError:
            continue


def _open(folder: str, path: str) -> int:
    try:
        return os.open(path, _EXCLUSIVE, 0o600)
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        return os.open(path, _EXCLUSIVE, 0o600)
