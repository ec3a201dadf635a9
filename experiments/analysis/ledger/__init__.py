"""The claims ledger: each claim of the paper with our measurement, its interval and a verdict."""
