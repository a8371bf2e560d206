"""The desk domain's MX record: mail to the desk's address must find a server.

Bounded (2 s by default); a lookup that cannot be made is a warning, not a failure.
"""

from __future__ import annotations

from maildesk.config import Settings
from maildesk.doctor.findings import Finding, Probe, error, ok, warning

NAME = "mx"


def check(settings: Settings, probe: Probe) -> list[Finding]:
    domain = settings.desk.domain
    seconds = probe.mx_timeout_seconds
    try:
        hosts = probe.lookup_mx(domain, seconds)
    except TimeoutError:
        found = f"could not check {domain}: no DNS answer within {seconds:g} s"
        return [warning(NAME, found, "check the nameserver in /etc/resolv.conf, then try again")]
    except OSError as exc:
        found = f"could not check {domain}: {exc}"
        return [warning(NAME, found, "check the nameserver in /etc/resolv.conf, then try again")]
    usable = [host for host in hosts if host not in ("", ".")]  # "." is a null MX: no mail
    if not usable:
        fix = f"publish an MX record for {domain}, or set desk.address to a domain that has one"
        return [error(NAME, f"{domain} has no MX record: mail to the desk cannot arrive", fix)]
    return [ok(NAME, f"{domain} mail goes to {', '.join(usable)}")]
