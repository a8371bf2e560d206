"""The inbound pipeline: an ordered table of small stages, each returning a disposition."""
