"""The civil registry: a reference service over its own citizen database, and clients for it."""
