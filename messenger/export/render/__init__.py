"""The three export formats, each a writer fed the same shown messages in one pass."""
