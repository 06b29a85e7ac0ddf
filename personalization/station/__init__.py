"""The encoding station: one card personalized, verified and locked, step by step (DESIGN §4)."""
