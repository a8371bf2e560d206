"""The command specs, a few related ones per module; each module exports `SPECS`.

`maildesk.agent.registry` collects every module here: a new command is one more spec.
"""
