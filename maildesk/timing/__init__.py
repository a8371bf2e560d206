"""Pure time code, low in the import chain: the one clock, durations, and (issues 10, 11) business
calendars (`calendars.py`) and SLA policy arithmetic (`sla.py`) for the ticket-change hooks.
`config` reads its values with it, so it may import `maildesk.errors` and nothing else of ours.
"""
