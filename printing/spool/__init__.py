"""Print spoolers: CUPS (the real printer) and a spool folder (the embedded default)."""
