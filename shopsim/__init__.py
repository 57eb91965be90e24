"""shopsim: a checkout outage simulator and load-test harness."""

__version__ = "0.1.0"
