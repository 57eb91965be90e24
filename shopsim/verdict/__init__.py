"""The verdict: what a game day's run directory says about the store (see each module)."""
