"""Capture and checks at the registry counter."""
