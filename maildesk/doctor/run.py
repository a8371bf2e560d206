"""Run the doctor's table: every check, even after one fails; a check that crashes is a finding."""

from __future__ import annotations

from maildesk.config import Settings
from maildesk.doctor.findings import Check, Finding, Probe, error
from maildesk.doctor.table import CHECKS


def diagnose(
    settings: Settings, probe: Probe, checks: tuple[tuple[str, Check], ...] = CHECKS
) -> list[Finding]:
    findings: list[Finding] = []
    for name, check in checks:
        try:
            findings += check(settings, probe)
        except Exception as exc:  # a check's own bug must not hide the other checks
            message = f"the check failed: {type(exc).__name__}: {exc}"
            findings.append(error(name, message, "report this as a bug in maildesk"))
    return findings
