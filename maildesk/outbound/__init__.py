"""Outbound mail: sandboxed templates, composition, the outbox and its delivery.

Import the parts directly (`maildesk.outbound.render`, `.compose`, `.sender`); this package
imports nothing, so the layers below the sender never pull it in.
"""
