"""Faults: an envelope (spec.py) + a type from the table (table.py, types/) + two adapters
(inbound.py, outbound.py) + the per-service registry (state.py) + the chaos API (api.py).
Services ask the registry at switch points named in logic.py; what a fault may do to a service
by itself goes through the Target it hands the registry (target.py)."""
