"""The figures of `maildesk report …`: one module per report, each a few SQL aggregates."""
