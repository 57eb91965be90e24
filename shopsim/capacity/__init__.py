"""`shopsim capacity`: the highest open-model arrival rate at which a scenario's SLOs still hold.

A stepwise ramp from the scenario's first-stage rate until an SLO breaks, then bisection between
the last good and the first bad rate (search.py, pure); each step is a short steady game day at
one rate with the scenario's mix and store and no faults, judged by the verdict (step.py,
variant.py); the table, the answer line and capacity.json (render.py, cli.py).
"""
