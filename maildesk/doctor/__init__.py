"""`maildesk doctor`: checks of everything the desk depends on, each saying what to fix.

One declared table (`table.py`) names the checks; each lives in its own module and returns
findings (`findings.py`); `run.py` runs them all.
"""
