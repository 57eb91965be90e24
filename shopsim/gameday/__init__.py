"""Game days: a scenario file (load, faults, resilience, SLOs, expectations, stop conditions)
run end to end against the store, then judged.

    scenario.py   the scenario model, strict, with cross-field checks
    fields.py     its field types: durations as text or seconds, service names, shares
    loader.py     load_scenario(path): YAML with errors at file:line; the load plan and timeline
    guard.py      the size, depth and alias limits a file meets before it is parsed into objects
    schema.py     the JSON Schema generated from the model (python -m shopsim.gameday.schema)
    bundled.py    the Locust project and built-in scenarios beside shopsim; scenarios by name
    datamap.py    where each service of a store keeps its data, for the manifest
"""
