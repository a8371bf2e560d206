"""Reports as people read them: tables, CSV, JSON, HTML for mail, and charts."""
