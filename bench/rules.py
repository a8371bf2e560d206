"""What rules and agents' notices cost ingest: none, 50 `[[rules]]`, three agents, both.

Each run is a fresh desk on SQLite; every mail is accepted and processed as `maildesk ingest`
does. Most rules do not match (subjects, domains, headers, bodies nobody writes), a few do.
Three agents in the queue get a notice each per new ticket and customer reply (queued as
drafts, as the desk does). The set-ups take turns, `--repeat` rounds after a warm-up round,
and the median of each is printed beside the floor of `bench/baseline.py`, measured in the
same run. Prints figures, asserts nothing: `python -m bench.rules [--mails N] [--repeat R]`.
"""

from __future__ import annotations

import argparse
import statistics
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
    from bench.baseline import bare_rate
    from bench.corpus import DESK, generate
except ImportError:  # run as `python bench/rules.py`
    from baseline import bare_rate  # type: ignore[no-redef]
    from corpus import DESK, generate  # type: ignore[no-redef]

SETUPS = {"none": (0, False), "50 rules": (0, True), "3 agents": (3, False), "both": (3, True)}


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


def _agents(count: int) -> list[dict[str, Any]]:
    return [
        {"email": f"agent{i}@example.com", "name": f"Agent {i}", "queues": ["general"]}
        for i in range(1, count + 1)
    ]


def run(mails: list[bytes], rules: list[dict[str, Any]], agents: int = 0) -> float:
    """Seconds to accept and process `mails` on a fresh desk."""
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
            "agents": _agents(agents),
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


def _rounds(mails: list[bytes], repeat: int) -> dict[str, list[float]]:
    """Seconds of each set-up per round; the set-ups take turns, after one warm-up round."""
    rules = fifty_rules()
    seconds: dict[str, list[float]] = {name: [] for name in SETUPS}
    for round_ in range(repeat + 1):
        for name, (agents, with_rules) in SETUPS.items():
            taken = run(mails, rules if with_rules else [], agents)
            if round_:
                seconds[name].append(taken)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="counted rounds (default 3)")
    args = parser.parse_args()
    mails = generate(args.mails)
    with tempfile.TemporaryDirectory() as folder:
        floor = bare_rate(mails, Path(folder))
    seconds = _rounds(mails, args.repeat)
    none = statistics.median(seconds["none"])
    print(f"{'set-up':>9} {'mails/s':>8} {'of floor':>8} {'vs none':>8} {'ms a mail more':>14}")
    for name, runs in seconds.items():
        median = statistics.median(runs)
        rate = len(mails) / median
        extra = (median - none) / len(mails) * 1000
        print(f"{name:>9} {rate:>8.1f} {rate / floor:>8.3f} {none / median:>8.3f} {extra:>14.2f}")
    print(f"floor (bench/baseline.py bare, same run): {floor:.0f} msgs/s; median of {args.repeat}")


if __name__ == "__main__":
    main()
