"""SHOPSIM_FREE_PORTS: where shopsim looks for free ports, and a clear refusal of bad values."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shopsim.gameday.sampler import PORT_RANGE, PORT_RANGE_ENV, free_ports, port_range


def test_the_default_range_lies_below_the_ephemeral_ports():
    assert port_range({}) == PORT_RANGE == (10_000, 32_768)


def test_ports_are_chosen_inside_the_range_given():
    env = {PORT_RANGE_ENV: "21000-21040"}
    for _ in range(20):
        base = free_ports(3, offsets=(0, 10), environ=env)
        assert base >= 21_000 and base + 2 + 10 < 21_040


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("20000", "expected LO-HI"),
        ("a-b", "expected LO-HI"),
        ("30000-20000", "LO < HI"),
        ("80-2000", "1024 <= LO"),
    ],
)
def test_a_bad_range_is_refused_by_name(value, says):
    with pytest.raises(ValueError, match=says):
        port_range({PORT_RANGE_ENV: value})


def test_a_range_too_narrow_for_the_ports_is_refused():
    with pytest.raises(RuntimeError, match="too narrow"):
        free_ports(10, environ={PORT_RANGE_ENV: "20000-20005"})


def test_the_cli_refuses_a_bad_range_with_exit_2_and_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "shopsim", "scenarios"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", PORT_RANGE_ENV: "oops"},
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip() == f"shopsim: {PORT_RANGE_ENV}='oops': expected LO-HI, e.g. 20000-26000"
    )
