"""Dispositions: what a stage says should happen to a mail, as data with a reason."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Verdict(enum.Enum):
    CONTINUE = "continue"
    DROP = "drop"  # recorded, no ticket, no reply
    HOLD = "hold"  # kept for an operator to review and requeue
    REJECT = "reject"  # refused by policy (blacklist), recorded with the reason


@dataclass(frozen=True)
class Disposition:
    verdict: Verdict
    reason: str = ""


CONTINUE = Disposition(Verdict.CONTINUE)


def drop(reason: str) -> Disposition:
    return Disposition(Verdict.DROP, reason)


def hold(reason: str) -> Disposition:
    return Disposition(Verdict.HOLD, reason)


def reject(reason: str) -> Disposition:
    return Disposition(Verdict.REJECT, reason)
