"""The `issuance` command line: an entry point, so it may wire every stage together."""
