"""Scenario files: the built-ins, the schema, errors at file:line, the plan and the timeline."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import pytest
import yaml

from shopsim.faults.timeline import FaultAt, ResilienceAt
from shopsim.gameday import schema
from shopsim.gameday.loader import (
    ScenarioError,
    load_scenario,
    parse_scenario,
    timeline_entries,
    to_plan,
    to_timeline,
)
from shopsim.gameday.scenario import check_time_scale

SCENARIOS = Path(__file__).resolve().parent.parent / "loadtests" / "scenarios"
BUILTINS = sorted(SCENARIOS.glob("*.yaml"))
SCHEMA_FILE = SCENARIOS / "scenario.schema.json"

BASE = """\
name: t
description: a test scenario
duration: 100s
load:
  model: open
  stages:
    - {duration: 30s, rate: 4}
"""


def _error(tmp_path: Path, text: str) -> tuple[Path, str]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return path, str(info.value)


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# --- the built-in scenarios ------------------------------------------------------------------


def test_builtins_are_the_rehearsals_and_their_variants():
    assert [p.stem for p in BUILTINS] == [
        "baby-registry-misfire",
        "cart-outage",
        "flash-sale-oversell",
        "labor-day-checkout-status",
        "labor-day-checkout",
        "payment-brownout",
        "retry-storm-budget",
        "retry-storm-shedding",
        "retry-storm",
        "steady-baseline",
    ]


@pytest.mark.parametrize("path", BUILTINS, ids=lambda p: p.stem)
def test_builtin_loads_with_realistic_numbers(path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert len(scenario.description) > 80  # says what it rehearses
    assert 90 <= scenario.duration_s <= 240  # 1.5-4 minutes at time scale 1
    assert scenario.load.total_s() == scenario.duration_s
    if scenario.load.model == "open":  # the 2-core machine: ~20 checkouts/s healthy
        assert max(s.rate or 0 for s in scenario.load.stages) <= 40
    for fault in scenario.faults:
        assert fault.end_s <= scenario.duration_s
    to_timeline(scenario, 1.0)  # every fault builds and the timeline accepts them


def test_builtins_rehearse_what_they_say():
    s = {p.stem: load_scenario(p) for p in BUILTINS}
    labor = s["labor-day-checkout"]
    rates = [st.rate for st in labor.load.stages]
    assert rates[1] >= 5 * rates[0] and labor.load.stages[1].duration_s <= 5  # a surge in seconds
    assert labor.store.threads == {"payment": 4, "inventory": 4}
    assert labor.expectations.culprit == "payment" and labor.expectations.recovers_within_s
    assert any(c.metric == "checkout_error_ratio" for c in labor.stop_conditions)
    misfire = s["baby-registry-misfire"]
    assert [f.type for f in misfire.faults] == ["notification_misfire"]
    assert misfire.expectations.integrity_clean is False
    assert misfire.expectations.culprit == "notifications"
    assert misfire.load.mix.gift_buyer > 0
    assert {f.type for f in s["payment-brownout"].faults} == {"latency", "error"}
    (outage,) = s["cart-outage"].faults
    assert (outage.type, outage.target, outage.duration_s) == ("outage", "cart", 30.0)
    oversell = s["flash-sale-oversell"]
    assert [f.type for f in oversell.faults] == ["oversell_race"]
    assert oversell.expectations.integrity_clean is False
    storm = s["retry-storm"]
    policy = storm.resilience.initial["checkout"].dependencies["payment"]
    assert (policy.retries, policy.backoff, policy.breaker_enabled) == (5, "none", False)
    assert storm.resilience.changes == []  # a pure trigger: nothing rescues it
    assert storm.expectations.metastable is True
    (trigger,) = storm.faults
    assert trigger.type in ("hang", "latency") and trigger.target == "payment"
    assert storm.store.admission == {"payment": 0}  # no load shedding
    front = storm.resilience.initial["storefront"].dependencies["checkout"]
    assert front.breaker_enabled is False  # nor the storefront's breaker turning checkouts away
    # each variant removes one cause of the loop, and only that
    budget, shedding = s["retry-storm-budget"], s["retry-storm-shedding"]
    budget_policy = budget.resilience.initial["checkout"].dependencies["payment"]
    assert budget_policy.retry_budget_ratio is None and budget.store == storm.store
    assert shedding.store.admission["payment"] > 0
    assert shedding.resilience == storm.resilience
    assert budget.expectations.metastable is False is shedding.expectations.metastable
    baseline = s["steady-baseline"]
    assert baseline.faults == [] and len({st.target() for st in baseline.load.stages}) == 1


# --- the JSON Schema -------------------------------------------------------------------------


def test_committed_schema_is_what_the_model_generates():
    assert SCHEMA_FILE.read_text() == schema.render()


def test_schema_entry_point_prints_it(capsys):
    assert schema.main() == 0
    assert json.loads(capsys.readouterr().out) == schema.scenario_schema()


@pytest.mark.parametrize("path", BUILTINS, ids=lambda p: p.stem)
def test_builtin_validates_against_the_schema(path):
    committed = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(committed)
    jsonschema.Draft202012Validator(committed).validate(yaml.safe_load(path.read_text()))


@pytest.mark.parametrize(
    "change",
    [
        {"bogus": 1},
        {"duration": "soon"},
        {"load": {"model": "open", "stages": [{"duration": "5s", "rate": 4, "speed": 1}]}},
        {"faults": [{"at": 0, "duration": 5, "type": "latncy", "target": "payment"}]},
        {"expectations": {"culprit": "paymnt"}},
    ],
)
def test_schema_refuses_what_the_model_refuses(change):
    data = yaml.safe_load(BASE) | change
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema.scenario_schema(), jsonschema.Draft202012Validator)
    with pytest.raises(ScenarioError):
        parse_scenario(yaml.safe_dump(data))


# --- broken files: file:line: path: problem --------------------------------------------------

FAULT_BLOCK = """\
faults:
  - at: 10s
    duration: 20s
    type: latency
    target: payment
    params:
      ms: fast
"""

BROKEN = {
    "yaml_syntax": (
        BASE.replace("  model: open", "  model: open\n    bad: indent"),
        "bad: indent",
        "YAML syntax error: mapping values are not allowed here",
    ),
    "yaml_unclosed_bracket": (
        BASE + "faults: [{at: 10s\n# the end",  # no newline: the stream ends on that line
        "# the end",
        "YAML syntax error: while parsing a flow mapping started on line 8: expected ',' or '}', "
        "but got '<stream end>'",
    ),
    "unknown_top_level_field": (
        BASE + "stop_condition: []\n",
        "stop_condition",
        "stop_condition is not a known field (did you mean 'stop_conditions'?)",
    ),
    "unknown_field_lists_the_known": (
        BASE.replace("    - {duration: 30s, rate: 4}", "    - {duration: 30s, rate: 4, zz: 1}"),
        "zz: 1",
        "load.stages[0].zz is not a known field (known: duration, rate, users, ramp)",
    ),
    "unknown_fault_type": (
        BASE + "faults:\n  - {at: 10s, duration: 20s, type: latncy, target: payment}\n",
        "latncy",
        "faults[0].type: unknown fault type 'latncy'; known: cache_off,",
    ),
    "fault_param_of_wrong_type": (
        BASE + FAULT_BLOCK,
        "ms: fast",
        "faults[0].params.ms: Input should be a valid number",
    ),
    "unknown_fault_param": (
        BASE + FAULT_BLOCK.replace("ms: fast", "mss: 5"),
        "mss: 5",
        "faults[0].params.mss is not a known field",
    ),
    "fault_target_unknown": (
        BASE + "faults:\n  - {at: 1s, duration: 2s, type: error, target: paymnt}\n",
        "paymnt",
        "faults[0].target: unknown service 'paymnt'; one of storefront, catalog, cart, "
        "inventory, payment, checkout, registry, notifications",
    ),
    "fault_type_on_the_wrong_service": (
        BASE + "faults:\n  - {at: 1s, duration: 2s, type: oversell_race, target: cart}\n",
        "oversell_race",
        "faults[0].target: oversell_race applies to inventory only",
    ),
    "fault_probability_out_of_range": (
        BASE + "faults:\n  - {at: 1s, duration: 2s, type: error, target: cart, probability: 2}\n",
        "probability",
        "faults[0].probability: Input should be less than or equal to 1",
    ),
    "fault_longer_than_an_hour": (
        BASE.replace("100s", "3h") + "faults:\n  - {at: 1s, duration: 2h, type: error, "
        "target: cart}\n",
        "2h",
        "faults[0].duration: Input should be less than or equal to 3600",
    ),
    "fault_past_the_end": (
        BASE + "faults:\n  - {at: 90s, duration: 20s, type: error, target: cart}\n",
        "at: 90s",
        "faults[0]: ends at 110s (at 90s + duration 20s), after the scenario's duration 100s",
    ),
    "same_name_overlapping": (
        BASE + "faults:\n"
        "  - {at: 10s, duration: 20s, type: error, target: cart}\n"
        "  - {at: 20s, duration: 20s, type: error, target: cart}\n",
        "at: 20s",
        "faults[1] is active at the same time as faults[0] under the same name 'error-cart-",
    ),
    "open_stage_with_users": (
        BASE.replace("rate: 4}", "rate: 4}\n    - {duration: 5s, users: 10}"),
        "users: 10",
        "load.stages[1].users: an open-model stage takes rate, not users",
    ),
    "closed_stage_with_rate": (
        BASE.replace("model: open", "model: closed").replace("rate: 4", "users: 4")
        + "    - {duration: 5s, rate: 10}\n",
        "rate: 10",
        "load.stages[1].rate: a closed-model stage takes users, not rate",
    ),
    "stage_without_target": (
        BASE + "    - {duration: 5s, ramp: true}\n",
        "ramp: true",
        "load.stages[1].rate is required in an open-model stage",
    ),
    "stages_longer_than_duration": (
        BASE + "    - {duration: 71s, rate: 4}\n",
        "stages:",
        "load.stages: the stages last 101s in all, longer than the scenario's duration 100s",
    ),
    "negative_duration_text": (
        BASE.replace("duration: 100s", "duration: -5s"),
        "-5s",
        "duration: '-5s' is not a duration (examples: 60s, 5m, 500ms)",
    ),
    "negative_duration_number": (
        BASE.replace("{duration: 30s", "{duration: -30"),
        "-30",
        "load.stages[0].duration: Input should be greater than 0",
    ),
    "malformed_duration": (
        BASE.replace("duration: 100s", "duration: 5 minutes"),
        "5 minutes",
        "duration: '5 minutes' is not a duration (examples: 60s, 5m, 500ms)",
    ),
    "empty_duration": (
        BASE.replace("duration: 100s", "duration:"),
        "duration:",
        "duration: a duration is a number of seconds or text like 30s, 5m, 500ms",
    ),
    "duration_above_a_day": (
        BASE.replace("duration: 100s", "duration: 25h"),
        "25h",
        "duration: Input should be less than or equal to 86400",
    ),
    "missing_load": (
        "name: t\ndescription: d\nduration: 10s\n",
        "name: t",
        "load is required",
    ),
    "missing_model": (
        BASE.replace("  model: open\n", ""),
        "load:",
        "load.model is required",
    ),
    "rate_above_limit": (
        BASE.replace("rate: 4", "rate: 20000"),
        "20000",
        "load.stages[0].rate: Input should be less than or equal to 10000",
    ),
    "users_above_limit": (
        BASE.replace("model: open", "model: closed").replace("rate: 4", "users: 10001"),
        "10001",
        "load.stages[0].users: Input should be less than or equal to 10000",
    ),
    "users_fractional": (
        BASE.replace("model: open", "model: closed").replace("rate: 4", "users: 2.5"),
        "2.5",
        "load.stages[0].users: Input should be a valid integer",
    ),
    "mix_unknown_journey": (
        BASE + "  mix: {browser: 1, robot: 2}\n",
        "mix:",
        "load.mix.robot is not a known field (known: browser, shopper, gift_buyer)",
    ),
    "mix_misspelt_journey": (
        BASE + "  mix: {browser: 1, gift_buyers: 2}\n",
        "mix:",
        "load.mix.gift_buyers is not a known field (did you mean 'gift_buyer'?)",
    ),
    "mix_all_zero": (
        BASE + "  mix: {browser: 0}\n",
        "mix:",
        "load.mix: give at least one journey (browser, shopper, gift_buyer) a positive weight",
    ),
    "mix_negative": (
        BASE + "  mix: {browser: -1, shopper: 2}\n",
        "mix:",
        "load.mix.browser: Input should be greater than or equal to 0",
    ),
    "stop_condition_both_bounds": (
        BASE + "stop_conditions:\n  - {metric: checkout_error_ratio, above: 0.5, below: 0.1, "
        "for: 10s}\n",
        "metric:",
        "stop_conditions[0]: give exactly one of above or below",
    ),
    "stop_condition_unknown_metric": (
        BASE + "stop_conditions:\n  - {metric: error_rate, above: 0.5, for: 10s}\n",
        "metric:",
        "stop_conditions[0].metric: Input should be 'checkout_error_ratio', "
        "'checkout_p95_seconds', 'browse_error_ratio', 'load_cpu_percent' or "
        "'dropped_arrivals_per_s'",
    ),
    "stop_condition_ratio_above_one": (
        BASE + "stop_conditions:\n  - {metric: browse_error_ratio, above: 5, for: 10s}\n",
        "metric:",
        "stop_conditions[0].above: browse_error_ratio is 0..1: above 5 never fires",
    ),
    "stop_condition_without_for": (
        BASE + "stop_conditions:\n  - {metric: load_cpu_percent, above: 90}\n",
        "metric:",
        "stop_conditions[0].for is required",
    ),
    "slo_not_a_share": (
        BASE + "slos:\n  checkout_availability: 1.0\n",
        "checkout_availability",
        "slos.checkout_availability: Input should be less than 1",
    ),
    "slo_threshold_off_the_buckets": (
        BASE + "slos:\n  checkout_latency: {threshold: 2s, target: 0.9}\n",
        "threshold",
        "slos.checkout_latency.threshold: 2s is not a latency bucket boundary, so it cannot be "
        "measured exactly; use one of",
    ),
    "culprit_unknown": (
        BASE + "expectations:\n  culprit: paymnt\n",
        "paymnt",
        "expectations.culprit: unknown service 'paymnt'; one of storefront,",
    ),
    "metastable_and_recovers": (
        BASE + "expectations:\n  metastable: true\n  recovers_within: 10s\n",
        "metastable",
        "expectations.metastable: true contradicts recovers_within (it never recovers)",
    ),
    "recovery_past_the_end": (
        BASE + "faults:\n  - {at: 10s, duration: 60s, type: error, target: cart}\n"
        "expectations:\n  recovers_within: 40s\n",
        "recovers_within",
        "expectations.recovers_within: the last fault ends at 70s, so the run must last at "
        "least 110s to see it recover (it lasts 100s)",
    ),
    "threads_of_unknown_service": (
        BASE + "store:\n  threads: {paymnt: 4}\n",
        "threads",
        "store.threads.paymnt: unknown service 'paymnt'",
    ),
    "resilience_unknown_dependency": (
        BASE + "resilience:\n  initial:\n    checkout:\n      dependencies:\n"
        "        storefront: {retries: 1}\n",
        "storefront: {retries",
        "resilience.initial.checkout.dependencies.storefront: checkout does not call "
        "'storefront' (it calls: cart, catalog, inventory, payment, notifications, registry)",
    ),
    "resilience_patch_bad_value": (
        BASE + "resilience:\n  changes:\n    - at: 10s\n      service: checkout\n"
        "      patch: {dependencies: {payment: {retries: 50}}}\n",
        "retries: 50",
        "resilience.changes[0].patch.dependencies.payment.retries: Input should be less than "
        "or equal to 10",
    ),
    "resilience_change_after_the_end": (
        BASE + "resilience:\n  changes:\n    - at: 101s\n      service: checkout\n"
        "      patch: {admission_max_in_flight: 10}\n",
        "at: 101s",
        "resilience.changes[0].at: 101s is after the scenario's duration 100s",
    ),
    "name_not_a_slug": (
        BASE.replace("name: t", "name: Labor Day"),
        "Labor Day",
        "name: String should match pattern '^[a-z0-9][a-z0-9-]{0,62}$'",
    ),
    "yaml_boolean_for_text": (
        BASE.replace("description: a test scenario", "description: yes"),
        "description",
        "description: Input should be a valid string",
    ),
    "duplicate_key": (
        BASE + "duration: 50s\n",
        "duration: 50s",
        "duration: given twice (first on line 3)",
    ),
    "list_at_top_level": (
        "- name: t\n- description: d\n",
        "- name",
        "the top level must be a mapping of fields (name: ..., description: ...), not a list",
    ),
    "scalar_at_top_level": (
        "just words\n",
        "just words",
        "the top level must be a mapping of fields (name: ..., description: ...), "
        "not the value 'just words'",
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_broken_file_names_file_line_and_path(tmp_path, case):
    text, needle, message = BROKEN[case]
    path, error = _error(tmp_path, text)
    first = error.splitlines()[0]
    assert first.startswith(f"{path}:{_line(text, needle)}: {message}"), first


def test_every_problem_is_reported_on_its_own_line(tmp_path):
    text = BASE.replace("rate: 4", "rate: fast") + "bogus: 1\n"
    path, error = _error(tmp_path, text)
    assert error.splitlines() == [
        f"{path}:7: load.stages[0].rate: Input should be a valid number",
        f"{path}:8: bogus is not a known field (known: name, summary, description, seed, duration, "
        "load, store, faults, resilience, slos, expectations, status_page, stop_conditions)",
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"], ids=repr)
def test_empty_file_is_refused(tmp_path, text):
    path, error = _error(tmp_path, text)
    assert error.startswith(f"{path}:1: the file is empty")


def test_missing_file_is_refused(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError, match="no such file") as info:
        load_scenario(path)
    assert str(info.value) == f"{path}: no such file"


def test_directory_and_binary_files_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match="is a directory"):
        load_scenario(tmp_path)
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ScenarioError, match=r"b.yaml: not UTF-8 text \(byte 6\)"):
        load_scenario(binary)


def test_a_python_tag_is_not_constructed(tmp_path):
    path, error = _error(tmp_path, BASE + "seed: !!python/object/apply:os.system [echo hi]\n")
    assert error.startswith(f"{path}:8: YAML syntax error:")
    assert "could not determine a constructor" in error


def test_durations_take_text_or_seconds():
    scenario = parse_scenario(
        BASE.replace("duration: 100s", "duration: 1.5m")
        + "    - {duration: 500ms, rate: 4}\n    - {duration: 2, rate: 4}\n"
        + "stop_conditions:\n  - {metric: load_cpu_percent, above: 90, for: 1m}\n"
    )
    assert scenario.duration_s == 90.0
    assert [s.duration_s for s in scenario.load.stages] == [30.0, 0.5, 2.0]
    assert scenario.stop_conditions[0].for_s == 60.0


def test_defaults_fill_what_a_file_leaves_out():
    scenario = parse_scenario(BASE)
    assert scenario.seed == 1
    assert scenario.load.mix.model_dump() == {"browser": 70, "shopper": 25, "gift_buyer": 5}
    assert scenario.load.max_in_flight == 2000
    assert scenario.slos.checkout_latency.threshold_s == 2.5
    assert scenario.faults == [] and scenario.stop_conditions == []


# --- the load plan and the timeline, scaled -------------------------------------------------

SCALED = """\
name: scaled
description: times to scale
seed: 9
duration: 200s
load:
  model: open
  stages:
    - {duration: 30s, rate: 5}
    - {duration: 3s, rate: 40, ramp: true}
    - {duration: 1m, rate: 40}
  mix: {browser: 60, shopper: 35, gift_buyer: 5}
  max_in_flight: 500
faults:
  - {at: 40s, duration: 60s, type: latency, target: payment, params: {ms: 1500}, probability: 0.8}
  - {at: 2.5s, duration: 500ms, type: outage, target: cart, name: cart-down}
resilience:
  initial: {checkout: {dependencies: {payment: {retries: 3, backoff: none}}}}
  changes:
    - {at: 100s, service: checkout, patch: {dependencies: {payment: {retries: 0}}}}
"""


def test_plan_divides_every_time_by_the_time_scale():
    plan = to_plan(parse_scenario(SCALED), 10, 9646, 200)
    assert plan == {
        "model": "open",
        "stages": [
            {"duration_s": 3.0, "target": 5.0, "ramp": False},
            {"duration_s": 0.3, "target": 40.0, "ramp": True},
            {"duration_s": 6.0, "target": 40.0, "ramp": False},
        ],
        "mix": {"browser": 60.0, "shopper": 35.0, "gift_buyer": 5.0},
        "seed": 9,
        "customers": 200,
        "metrics_port": 9646,
        "max_in_flight": 500,
        "time_scale": 10.0,
    }
    json.dumps(plan)  # it travels as JSON in SHOPSIM_LOAD_PLAN


def test_plan_at_scale_one_keeps_the_file_times():
    plan = to_plan(parse_scenario(SCALED), 1.0, 9000, 50)
    assert [s["duration_s"] for s in plan["stages"]] == [30.0, 3.0, 60.0]
    assert plan["customers"] == 50 and plan["metrics_port"] == 9000


def test_plan_of_a_closed_model_targets_users():
    text = BASE.replace("model: open", "model: closed").replace("rate: 4", "users: 25, ramp: true")
    plan = to_plan(parse_scenario(text), 2, 9646, 200)
    assert plan["model"] == "closed"
    assert plan["stages"] == [{"duration_s": 15.0, "target": 25, "ramp": True}]
    assert isinstance(plan["stages"][0]["target"], int)


def test_timeline_divides_times_and_fault_durations():
    entries = timeline_entries(parse_scenario(SCALED), 10)
    assert entries[0] == ResilienceAt(
        0.0, "checkout", {"dependencies": {"payment": {"retries": 3, "backoff": "none"}}}
    )
    latency, outage = entries[1], entries[2]
    assert isinstance(latency, FaultAt) and isinstance(outage, FaultAt)
    assert latency.at_s == 4.0
    assert latency.spec == {
        "type": "latency",
        "target": "payment",
        "duration_s": 6.0,
        "probability": 0.8,
        "params": {"ms": 1500},  # a fault's own parameters are not scaled
    }
    assert (outage.at_s, outage.spec["duration_s"], outage.spec["name"]) == (
        0.25,
        0.05,
        "cart-down",
    )
    assert entries[3] == ResilienceAt(
        10.0, "checkout", {"dependencies": {"payment": {"retries": 0}}}
    )
    assert len(entries) == 4


def test_timeline_schedules_adds_and_removes_at_scaled_times():
    timeline = to_timeline(parse_scenario(SCALED), 10)
    steps = [(at, action) for at, _, action, _ in timeline.steps]
    assert steps == [
        (0.0, "resilience"),
        (0.25, "add"),
        (0.3, "remove"),
        (4.0, "add"),
        (10.0, "remove"),  # removes go first at equal times
        (10.0, "resilience"),
    ]
    assert math.isclose(timeline.end_s, 10.0)


@pytest.mark.parametrize("scale", [0, -1, 1000.5, float("nan"), float("inf"), True, "10"])
def test_time_scale_outside_range_is_refused(scale):
    scenario = parse_scenario(SCALED)
    with pytest.raises(ValueError, match="time scale"):
        to_plan(scenario, scale, 9646, 200)
    with pytest.raises(ValueError, match="time scale"):
        to_timeline(scenario, scale)


@pytest.mark.parametrize("scale", [0.001, 1, 60, 1000])
def test_time_scale_inside_range_is_taken(scale):
    assert check_time_scale(scale) == float(scale)


def test_plan_refuses_impossible_ports_and_customers():
    scenario = parse_scenario(SCALED)
    with pytest.raises(ValueError, match="metrics_port"):
        to_plan(scenario, 1, 0, 200)
    with pytest.raises(ValueError, match="customers"):
        to_plan(scenario, 1, 9646, 0)
