"""automatic: recognise machine-sent mail (RFC 3834, bounces, lists, our own X-Loop).

Such mail never triggers an automatic reply; the stage only records why, later stages decide.
A delivery status report is parsed here, once, for thread-match, decide and the outbox.
"""

from __future__ import annotations

import re
from dataclasses import replace

from maildesk.mail import InboundMail
from maildesk.outbound.bounces import parse_bounce
from maildesk.pipeline.disposition import CONTINUE
from maildesk.pipeline.work import StageEnv, Step, Work

NAME = "automatic"
_SYSTEM_LOCALS = ("mailer-daemon", "postmaster")


def automatic_reason(
    mail: InboundMail, desk_addresses: frozenset[str], *, envelope_from: str | None = None
) -> str | None:
    """Why a mail is automatic (the first sign found), or None for mail a person wrote.

    `envelope_from` is the SMTP MAIL FROM when the mail came over SMTP: "" is the null sender.
    """
    auto_header = mail.header("auto-submitted") or ""
    auto_submitted = re.split(r"[;(]", auto_header)[0].strip().lower()
    precedence = (mail.header("precedence") or "").strip().lower()
    sender = mail.sender.email if mail.sender else ""
    checks = (
        (
            any(v.strip().lower() in desk_addresses for v in mail.header_all("x-loop")),
            "our own X-Loop header",  # mail about a queue's tickets carries its address
        ),
        (
            bool(auto_submitted) and auto_submitted != "no",
            f"Auto-Submitted: {auto_header.split(';')[0].strip().lower()}",
        ),
        (precedence in ("bulk", "junk", "list"), f"Precedence: {precedence}"),
        (mail.header("x-autoreply") is not None, "X-Autoreply header"),
        (mail.header("x-autorespond") is not None, "X-Autorespond header"),
        (mail.return_path == "", "null return path <>"),
        (envelope_from == "", "null envelope sender MAIL FROM:<>"),
        (sender.partition("@")[0] in _SYSTEM_LOCALS, f"system sender {sender}"),
        (mail.content_type == "multipart/report", "delivery status report (multipart/report)"),
        (mail.header("list-id") is not None, "mailing list (List-Id)"),
    )
    return next((reason for matched, reason in checks if matched), None)


def run(work: Work, env: StageEnv) -> Step:
    mail = work.parsed()
    reason = automatic_reason(
        mail, env.desk.settings.desk_addresses(), envelope_from=work.envelope_from
    )
    bounce = parse_bounce(work.raw) if mail.content_type == "multipart/report" else None
    return CONTINUE, replace(work, automatic=reason, bounce=bounce)
