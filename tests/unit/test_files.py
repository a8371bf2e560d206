"""Attachment files are stored once per content, under their sha256, never under a mail's name."""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
from pathlib import Path

import pytest

from maildesk import files
from maildesk.files import AttachmentStore


def test_an_attachment_is_stored_under_its_hash_and_read_back(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "files")

    sha = store.put(b"%PDF-1.4 report")

    assert sha == hashlib.sha256(b"%PDF-1.4 report").hexdigest()
    assert store.path_for(sha) == tmp_path / "files" / sha[:2] / sha
    assert store.get(sha) == b"%PDF-1.4 report"


def test_the_same_content_twice_is_one_file(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)

    first, second = store.put(b"same"), store.put(b"same")

    assert first == second
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [first]


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)

    store.put(b"one")
    store.put(b"two")

    assert not [p for p in tmp_path.rglob(".tmp-*")]
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 2


def test_a_hash_worked_out_before_names_the_file(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    sha = hashlib.sha256(b"parsed ahead").hexdigest()

    assert store.put(b"parsed ahead", sha) == sha
    assert store.get(sha) == b"parsed ahead"


def test_a_fan_out_directory_removed_meanwhile_is_made_again(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    sha = store.put(b"first")
    store.path_for(sha).unlink()
    store.path_for(sha).parent.rmdir()

    assert store.put(b"first") == sha
    assert store.get(sha) == b"first"


def test_a_temporary_file_a_killed_process_left_under_the_next_name_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = AttachmentStore(tmp_path)
    sha = hashlib.sha256(b"after a crash").hexdigest()
    monkeypatch.setattr(files, "_NAMES", itertools.count())
    (tmp_path / sha[:2]).mkdir()
    left = tmp_path / sha[:2] / f".tmp-{os.getpid()}-{threading.get_ident()}-0"
    left.write_bytes(b"half a file")

    assert store.put(b"after a crash") == sha
    assert store.get(sha) == b"after a crash"
    assert left.read_bytes() == b"half a file"  # what it did not write, it leaves alone
