"""The composition root of `maildesk run`: the loop (`loop.py`), its IMAP wiring (`imap.py`),
and one tick of its periodic work (`tick.py`), which `maildesk tick` also runs.
"""
