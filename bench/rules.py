"""Ingest throughput with 50 realistic `[[rules]]` against none, side by side, on SQLite.

Each run is a fresh desk; every mail is accepted and processed as `maildesk ingest` does.
Most rules do not match (subjects, domains, headers, bodies nobody writes), a few do.
Prints figures, asserts nothing: `python bench/rules.py [--mails N]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from maildesk.app import accept_raw, open_app
from maildesk.config import parse_settings
from maildesk.db import make_engine, upgrade
from maildesk.pipeline.runner import process_one
from maildesk.services.origin import Origin

try:
    from bench.corpus import DESK, generate
except ImportError:  # run as `python bench/rules.py`
    from corpus import DESK, generate  # type: ignore[no-redef]


def fifty_rules() -> list[dict[str, Any]]:
    """45 rules that rarely match and 5 that often do, in the shapes operators write."""
    rare: list[dict[str, Any]] = []
    for i in range(15):
        rare.append(
            {
                "name": f"domain {i}",
                "when": {"from_domain": f"customer{i}.example"},
                "then": {"priority": "high", "tags": [f"key{i}"]},
            }
        )
        rare.append(
            {
                "name": f"subject {i}",
                "when": {"subject_regex": f"(?i)\\bproject-{i}\\b"},
                "then": {"queue": "billing"},
            }
        )
        rare.append(
            {
                "name": f"body {i}",
                "when": {"body_contains": f"contract no. X{i}Z"},
                "on": ["new", "follow-up"],
                "then": {"tags": ["contract"]},
            }
        )
    often = [
        {
            "name": "invoices",
            "when": {"subject_regex": "(?i)invoice|billing|payment"},
            "then": {"queue": "billing", "tags": ["money"]},
        },
        {
            "name": "urgent words",
            "when": {"subject_contains": "urgent"},
            "then": {"priority": "high"},
        },
        {"name": "attachments", "when": {"has_attachment": True}, "then": {"tags": ["files"]}},
        {
            "name": "replies",
            "on": ["follow-up"],
            "when": {"body_regex": "(?i)thanks"},
            "then": {"tags": ["thanked"]},
        },
        {
            "name": "outside hours",
            "when": {"business_hours": "office"},
            "then": {"tags": ["office"]},
        },
    ]
    return rare + often


def run(mails: list[bytes], rules: list[dict[str, Any]]) -> float:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        data: dict[str, Any] = {
            "desk": {"address": DESK, "secret": "bench-secret-0123456789"},
            "database": {"url": url},
            "queues": [
                {"name": "general", "addresses": [DESK]},
                {"name": "billing", "addresses": ["billing@example.com"]},
            ],
            "calendars": [
                {
                    "name": "office",
                    "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
                }
            ],
            "rules": rules,
        }
        settings = parse_settings(data, base_dir=Path(folder))
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        app = open_app(settings)
        start = time.perf_counter()
        for raw in mails:
            stored = accept_raw(app, raw, Origin(transport="pipe"))
            process_one(app.engine, app.desk, item_id=stored.item_id)
        seconds = time.perf_counter() - start
        app.engine.dispose()
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mails", type=int, default=500)
    args = parser.parse_args()
    mails = generate(args.mails)
    rules = fifty_rules()
    none, fifty = run(mails, []), run(mails, rules)
    print(f"{'rules':>6} {'mails':>6} {'seconds':>8} {'mails/s':>8}")
    for label, seconds in (("0", none), (str(len(rules)), fifty)):
        print(f"{label:>6} {len(mails):>6} {seconds:>8.2f} {len(mails) / seconds:>8.1f}")
    print(f"cost of {len(rules)} rules: {(fifty - none) / len(mails) * 1000:.2f} ms a mail")


if __name__ == "__main__":
    main()
