"""Admission control counts a request from its arrival when the server reports arrivals."""

from __future__ import annotations

from shopsim.resilience import AdmissionControl
from shopsim.settings import Settings


def test_without_arrivals_it_counts_from_dispatch():
    gate = AdmissionControl(2)
    assert gate.enter() and gate.enter()
    assert not gate.enter()
    gate.leave()
    assert gate.enter()


def test_requests_waiting_for_a_thread_count_against_the_limit():
    gate = AdmissionControl(3)
    for _ in range(5):  # five requests accepted; none has a thread yet
        gate.arrive()
    assert gate.arrived == 5
    assert not gate.enter()  # the queue is over the limit: answer 503 at once
    gate.depart()
    gate.depart()  # the refused ones are done
    assert gate.enter()  # three held: this one is within the limit
    assert gate.in_flight == 1


def test_a_limit_of_zero_admits_everything():
    gate = AdmissionControl(0)
    for _ in range(1000):
        gate.arrive()
        assert gate.enter()


def test_settings_default_to_four_times_the_threads_and_zero_turns_it_off():
    settings = Settings(threads={"payment": 8}, admission_max_in_flight={"catalog": 0})
    assert settings.max_in_flight("payment") == 32
    assert settings.max_in_flight("catalog") == 0
