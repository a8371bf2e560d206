"""Outbound mail: sandboxed templates, composition, drafts, the outbox and bounces.

Import the parts directly (`maildesk.outbound.render`, `.compose`, `.outbox`); this package
imports nothing. Delivery is the sender's (`maildesk.sender`), high in the chain.
"""
