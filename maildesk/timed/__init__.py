"""Timed jobs (snoozes, auto-close, pending reminders; SLA sweep and reports to come), one
table in `jobs.py`.

High in the chain beside ingest and the sender; none of the three imports another.
"""
