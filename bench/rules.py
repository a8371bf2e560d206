"""What rules and agents' notices cost ingest: none, 50 `[[rules]]`, three agents, both.

Each set-up is a fresh desk on SQLite; every mail is accepted and processed as `maildesk
ingest` does, the four set-ups taking turns mail by mail, in every order in turn (the
machine's speed drifts within seconds: taking turns puts the drift on all of them alike;
no set-up reuses a cache the one before filled). Most rules do not match
(subjects, domains, headers, bodies nobody writes), a few do. Three agents in the queue get
a notice each per new ticket and customer reply (queued as drafts, as the desk does).
After a warm-up round, `--repeat` rounds on fresh desks; each set-up's median is printed
beside the floor of `bench/baseline.py`, measured in the same run, and its cost against none
is the median of the rounds' own ratios. Prints figures, asserts nothing:
`python -m bench.rules [--mails N] [--repeat R]`.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from maildesk.app import App, accept_raw
from maildesk.config import parse_settings
from maildesk.pipeline.runner import process_one
from maildesk.rules.shapes import lowered
from maildesk.services.origin import Origin

try:
    from bench.baseline import bare_rate
    from bench.corpus import DESK, generate
    from bench.ingest import migrated_app
except ImportError:  # run as `python bench/rules.py`
    from baseline import bare_rate  # type: ignore[no-redef]
    from corpus import DESK, generate  # type: ignore[no-redef]
    from ingest import migrated_app  # type: ignore[no-redef]

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


def desk_app(folder: Path, rules: list[dict[str, Any]], agents: int) -> App:
    """A fresh desk on SQLite in `folder`, with `rules` and `agents` agents in its queue."""
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
    return migrated_app(parse_settings(data, base_dir=folder))


def lockstep(mails: list[bytes]) -> dict[str, float]:
    """Seconds each set-up took to accept and process `mails`, each on its own fresh desk.

    The set-ups take turns mail by mail (in every order in turn), so a change in the
    machine's speed, which here comes and goes within seconds, falls on all of them alike."""
    rules = fifty_rules()
    seconds = dict.fromkeys(SETUPS, 0.0)
    with tempfile.TemporaryDirectory() as folder:
        apps: dict[str, App] = {}
        for name, (agents, with_rules) in SETUPS.items():
            (Path(folder) / name).mkdir()
            apps[name] = desk_app(Path(folder) / name, rules if with_rules else [], agents)
        orders = list(itertools.permutations(SETUPS))  # each set-up after each other one
        for index, raw in enumerate(mails):
            for name in orders[index % len(orders)]:
                lowered.cache_clear()  # no desk reuses what the one before worked out
                app, start = apps[name], time.perf_counter()
                stored = accept_raw(app, raw, Origin(transport="pipe"))
                process_one(app.engine, app.desk, item_id=stored.item_id)
                seconds[name] += time.perf_counter() - start
        for app in apps.values():
            app.engine.dispose()
    return seconds


def _rounds(mails: list[bytes], repeat: int) -> dict[str, list[float]]:
    """Seconds of each set-up per round, after one warm-up round (fresh desks each round)."""
    seconds: dict[str, list[float]] = {name: [] for name in SETUPS}
    for round_ in range(repeat + 1):
        taken = lockstep(mails)
        if round_:
            for name, value in taken.items():
                seconds[name].append(value)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="counted rounds (default 3)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat: at least one round")
    mails = generate(args.mails)
    with tempfile.TemporaryDirectory() as folder:
        floor = bare_rate(mails, Path(folder))
    seconds = _rounds(mails, args.repeat)
    nones = seconds["none"]
    print(
        f"{'set-up':>9} {'mails/s':>8} {'of floor':>8} {'vs none':>8} {'rounds':>11} "
        f"{'ms a mail more':>14}"
    )
    for name, runs in seconds.items():
        rate = len(mails) / statistics.median(runs)
        ratios = [none / taken for none, taken in zip(nones, runs, strict=True)]
        extra = statistics.median(t - none for none, t in zip(nones, runs, strict=True))
        print(
            f"{name:>9} {rate:>8.1f} {rate / floor:>8.3f} {statistics.median(ratios):>8.3f} "
            f"{min(ratios):>5.2f}-{max(ratios):<5.2f} {extra / len(mails) * 1000:>14.2f}"
        )
    print(
        f"floor (bench/baseline.py bare, same run, alone before the rounds): {floor:.0f} "
        f"msgs/s; medians of {args.repeat} rounds; 'vs none' and 'ms a mail more' are taken "
        "round by round"
    )


if __name__ == "__main__":
    main()
