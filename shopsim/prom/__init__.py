"""Prometheus and Grafana: rules, scrape configuration, dashboards, a Prometheus server for a
game day, and export of a finished run into Prometheus TSDB blocks.

Everything here is generated from the definitions the verdict uses (`verdict/slo.py`, the metric
catalogue), so an alert or a panel means the same thing in Prometheus, Grafana and report.json.
"""
