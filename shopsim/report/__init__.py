"""report.html, postmortem.md and run comparison: what people read after a game day."""
