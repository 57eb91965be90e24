"""shopsim's Locust project: journeys, users, shapes, the open model and its metrics.

Only locustfile.py and the modules it imports load Locust; plan.py and schedule.py are pure.
"""
