"""`shopsim matrix`: which customer journeys survive when each dependency goes down.

One store is started once; for each dependency and each way of taking it down (outage, then
crash) a short experiment runs the journeys over HTTP against the storefront, a few at a time,
and judges each journey works, degrades or breaks, with the evidence (journeys.py, cells.py,
render.py, cli.py).
"""
