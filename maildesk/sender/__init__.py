"""The sender: delivers due outbox rows (`delivery`) through a transport (`transports`).

High in the chain, beside ingest and the timed jobs, none of which imports another.
"""
