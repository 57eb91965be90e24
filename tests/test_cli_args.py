"""Every argument mistake, of every subcommand, exits 2 with a line naming what is wrong.

Run in-process: a mistake is refused while parsing or validating, before any store, database or
process is touched, so no test here needs one. Nothing may be written in the working directory.
"""

from __future__ import annotations

import pytest

from shopsim.cli import main

UP_TO_PORT = "http://127.0.0.1:"
FAULT = ["fault", "add", "latency", "--target", "payment", "--duration", "10s"]


def run(argv: list[str]) -> int:
    """main(argv)'s exit status, whether it returns it or argparse raises it."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


MISTAKES = {
    # the command itself
    "no_command": ([], "required: command"),
    "unknown_command": (["frobnicate"], "invalid choice: 'frobnicate'"),
    "unknown_option": (["status", "--frob"], "unrecognized arguments: --frob"),
    # up and seed
    "port_base_low": (["up", "--port-base", "80"], "--port-base must be between 1024 and 65428"),
    "port_base_high": (["up", "--port-base", "65500"], "--port-base must be between 1024"),
    "port_base_text": (["up", "--port-base", "abc"], "--port-base must be a number, not 'abc'"),
    "port_base_fraction": (["status", "--port-base", "8100.5"], "must be a whole number"),
    "port_base_unicode_digit": (["status", "--port-base", "８１００"], "--port-base must be"),
    "seed_negative": (["up", "--seed", "-1"], "--seed must be between"),
    "seed_huge": (["seed", "--seed", str(2**63)], "--seed must be between"),
    "db_other_backend": (
        ["up", "--db", "mysql://x/y"],
        "--db must be a sqlite:// or postgresql://",
    ),
    "db_not_a_url": (["seed", "--db", "nonsense"], "--db is not a database URL"),
    "db_empty_port": (["seed", "--db", "postgresql://u@h:/db"], "--db is not a database URL"),
    "db_in_memory": (["seed", "--db", "sqlite://"], "--db sqlite:// needs a file"),
    "db_in_memory_named": (["up", "--db", "sqlite:///:memory:"], "needs a file"),
    "db_postgres_without_database": (
        ["up", "--db", "postgresql://u@127.0.0.1"],
        "names no database",
    ),
    "threads_unknown_service": (["up", "--threads", "nosuch=4"], "unknown service 'nosuch'"),
    "threads_zero": (["up", "--threads", "payment=0"], "SERVICE=N with N between 1 and 256"),
    "threads_unicode_digit": (["up", "--threads", "payment=²"], "SERVICE=N with N between 1"),
    "threads_no_count": (["up", "--threads", "payment"], "SERVICE=N with N between 1 and 256"),
    "latency_nan": (["up", "--payment-latency-ms", "nan"], "--payment-latency-ms must be between"),
    "latency_huge": (["up", "--payment-latency-ms", "1e9"], "--payment-latency-ms must be between"),
    "latency_text": (["up", "--payment-latency-ms", "slow"], "--payment-latency-ms must be a"),
    # bench
    "bench_duration": (["bench", "--duration", "100000"], "--duration must be between 1 and 600"),
    "bench_duration_nan": (["bench", "--duration", "nan"], "--duration must be between"),
    "bench_concurrency": (["bench", "--concurrency", "0"], "--concurrency must be between 1"),
    "bench_concurrency_fraction": (["bench", "--concurrency", "2.5"], "must be a whole number"),
    # fault
    "fault_no_subcommand": (["fault"], "required: fault_command"),
    "fault_probability_above_one": ([*FAULT, "--probability", "2"], "--probability must be betw"),
    "fault_probability_nan": ([*FAULT, "--probability", "nan"], "--probability must be between"),
    "fault_probability_text": ([*FAULT, "--probability", "often"], "--probability must be a num"),
    "fault_unknown_type": (
        ["fault", "add", "latncy", "--target", "payment", "--duration", "10s"],
        "TYPE: unknown fault type 'latncy'",
    ),
    "fault_unknown_target": (
        ["fault", "add", "latency", "--target", "paymnt", "--duration", "10s"],
        "--target: unknown service 'paymnt'",
    ),
    "fault_wrong_target_for_type": (
        ["fault", "add", "oversell_race", "--target", "cart", "--duration", "10s"],
        "--target: oversell_race applies to inventory only",
    ),
    "fault_duration_too_long": (
        ["fault", "add", "latency", "--target", "payment", "--duration", "2h"],
        "--duration must be more than 0 and at most 3600s",
    ),
    "fault_duration_text": (
        ["fault", "add", "latency", "--target", "payment", "--duration", "soon"],
        "--duration: 'soon' is not a duration",
    ),
    "fault_without_duration": (
        ["fault", "add", "latency", "--target", "payment"],
        "the following arguments are required: --duration",
    ),
    "fault_param_type": ([*FAULT, "--param", "ms=fast"], "--param ms: Input should be a valid"),
    "fault_param_unknown": ([*FAULT, "--param", "mss=5"], "--param mss is not a known field"),
    "fault_param_shape": ([*FAULT, "--param", "ms"], "--param takes KEY=VALUE, not 'ms'"),
    "fault_name": ([*FAULT, "--name", "Big One"], "--name: String should match pattern"),
    "fault_direction": ([*FAULT, "--direction", "sideways"], "invalid choice: 'sideways'"),
    "fault_route_outbound": (
        [*FAULT, "--direction", "outbound", "--route", "/api/*"],
        "--route selects an inbound fault's routes",
    ),
    "fault_rm_not_a_name": (["fault", "rm", "../reset"], "'../reset' is not a fault name"),
    "fault_ls_port_base": (["fault", "ls", "--port-base", "1"], "--port-base must be between"),
    # gameday
    "gameday_unknown_name": (["gameday", "steady-baselin"], "no built-in scenario of that name"),
    "gameday_missing_file": (["gameday", "nowhere/s.yaml"], "nowhere/s.yaml: no such file"),
    "gameday_target_port_too_big": (
        ["gameday", "steady-baseline", "--target", UP_TO_PORT + "99999"],
        "the --target port must be between 1024 and 65428 (the store uses the 107 ports above "
        "it too), not 99999",
    ),
    "gameday_target_port_text": (
        ["gameday", "steady-baseline", "--target", UP_TO_PORT + "http"],
        "the --target port must be a number, not 'http'",
    ),
    "gameday_target_port_zero": (
        ["gameday", "steady-baseline", "--target", UP_TO_PORT + "0"],
        "the --target port must be between 1024",
    ),
    "gameday_target_without_port": (
        ["gameday", "steady-baseline", "--target", "http://127.0.0.1"],
        "--target must give the storefront's port",
    ),
    "gameday_target_not_loopback": (
        ["gameday", "steady-baseline", "--target", "http://192.0.2.1:8100"],
        "--target 192.0.2.1 is not a loopback address",
    ),
    "gameday_target_https": (
        ["gameday", "steady-baseline", "--target", "https://127.0.0.1:8100"],
        "--target must be a storefront URL like http://127.0.0.1:8100",
    ),
    "gameday_target_with_path": (
        ["gameday", "steady-baseline", "--target", UP_TO_PORT + "8100/api"],
        "without a path",
    ),
    "gameday_time_scale": (["gameday", "cart-outage", "--time-scale", "0"], "--time-scale must"),
    "gameday_time_scale_nan": (["gameday", "cart-outage", "--time-scale", "nan"], "--time-scale"),
    "gameday_processes_zero": (["gameday", "cart-outage", "--load-processes", "0"], "between 1"),
    "gameday_processes_digit": (
        ["gameday", "cart-outage", "--load-processes", "²"],
        "--load-processes must be a number",
    ),
    "gameday_db_and_target": (
        ["gameday", "cart-outage", "--db", "sqlite:///x.db", "--target", UP_TO_PORT + "8100"],
        "--db is for the store the game day starts; a --target store keeps its own data",
    ),
    "gameday_db_in_memory": (["gameday", "cart-outage", "--db", "sqlite://"], "needs a file"),
    # scenarios
    "scenarios_extra": (["scenarios", "all"], "unrecognized arguments: all"),
}


@pytest.mark.parametrize(("argv", "message"), MISTAKES.values(), ids=MISTAKES.keys())
def test_mistake_exits_2_naming_it(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


@pytest.mark.parametrize(
    ("option", "argv"),
    [
        ("--run-dir", ["up", "--run-dir"]),
        ("--run-dir", ["seed", "--run-dir"]),
        ("--out", ["gameday", "cart-outage", "--out"]),
    ],
)
def test_a_file_where_a_directory_goes_exits_2(option, argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").write_text("a file\n")
    assert run([*argv, "taken/sub"]) == 2
    assert f"{option} taken/sub: taken is a file, not a directory" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_fault_spec_mistake_is_refused_without_asking_any_store(capsys, monkeypatch):
    # Nothing listens on this port base: asking a store would end in exit status 1.
    assert run([*FAULT, "--probability", "2", "--port-base", "1024"]) == 2
    assert run([*FAULT, "--param", "ms=-5", "--port-base", "1024"]) == 2
    assert "did not answer" not in capsys.readouterr().err


def test_a_store_that_does_not_answer_is_exit_1_not_2(capsys):
    assert run([*FAULT, "--port-base", "1024"]) == 1
    assert "did not answer" in capsys.readouterr().err


def test_db_url_is_made_precise(tmp_path, monkeypatch):
    from shopsim.argtypes import db_url

    monkeypatch.chdir(tmp_path)
    assert db_url("sqlite:///shop.db") == f"sqlite:///{tmp_path.resolve() / 'shop.db'}"
    pg = db_url("postgresql://postgres:pw@127.0.0.1:5432/shop")
    assert pg == "postgresql+psycopg://postgres:pw@127.0.0.1:5432/shop"  # the store needs it


def test_target_gives_the_port_of_an_ipv6_loopback_store():
    from shopsim.argtypes import storefront_url

    assert storefront_url("http://[::1]:9100") == ("::1", 9100)
    assert storefront_url("http://localhost:9100/") == ("localhost", 9100)
