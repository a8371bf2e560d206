"""The mail templates and macros, built in and the site's override folder: each compiles
and renders with a sample context, as `maildesk config check` checks them."""

from __future__ import annotations

from maildesk.app import template_override
from maildesk.config import Settings
from maildesk.doctor.findings import Finding, Probe, error, ok
from maildesk.outbound.render import Renderer, check_templates

NAME = "templates"


def check(settings: Settings, probe: Probe) -> list[Finding]:
    override = template_override(settings)
    renderer = Renderer(override)
    problems = check_templates(renderer)
    fix = f"fix the template in {override}" if override else "fix the template"
    if problems:
        return [error(NAME, problem, fix) for problem in problems]
    where = f" (overrides from {override})" if override else ""
    count = len(renderer.template_names()) + len(renderer.macro_names())
    return [ok(NAME, f"{count} templates and macros render{where}")]
