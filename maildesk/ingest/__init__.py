"""Transports that turn raw bytes into inbox items: SMTP, IMAP, pipe, bulk import. No policy."""
