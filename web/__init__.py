"""The researchers' read-only site: search, scientists, items with players and transcripts,
exhibits. Public by design: restricted and closed items do not exist here."""
