"""Routing rules: which queue a new ticket lands in."""
