"""Faults: an envelope (spec.py) + a type from the table (table.py, types/) + two adapters
(inbound.py, outbound.py) + the per-service registry (state.py) + the chaos API (api.py)."""
