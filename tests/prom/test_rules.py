"""The Prometheus rules in grafana/rules/: generated from the verdict's definitions, valid for
promtool, and every alert tested firing and silent by `promtool test rules`."""

from __future__ import annotations

import subprocess

import yaml

from shopsim.prom.files import GRAFANA, SCALES, main
from shopsim.prom.rules import default_slos, rule_groups
from shopsim.verdict.slo import BUSINESS_ALERTS, TIERS
from tests.prom.tools import binary

RULES = GRAFANA / "rules"


def _alerts(factor: float) -> set[str]:
    groups = rule_groups(default_slos(), factor)["groups"]
    return {r["alert"] for g in groups for r in g["rules"] if "alert" in r}


def test_grafana_files_match_their_generator():
    assert main(["--check"]) == 0


def test_rules_name_every_alert_the_verdict_evaluates():
    verdict = {f"{s.name}_{t.name}" for s in default_slos() for t in TIERS}
    verdict |= {a.name for a in BUSINESS_ALERTS}
    for factor in SCALES.values():
        alerts = _alerts(factor)
        assert verdict <= alerts
        assert {"service_down", "dependency_failing"} <= alerts


def test_rehearsal_windows_are_the_production_ones_divided_by_the_factor():
    prod = (RULES / "shopsim-production.rules.yml").read_text()
    rehearsal = (RULES / "shopsim-rehearsal.rules.yml").read_text()
    assert "shopsim:slo_burn_rate:rate1h" in prod and "shopsim:slo_burn_rate:rate3d" in prod
    assert (
        "shopsim:slo_burn_rate:rate1m" in rehearsal and "shopsim:slo_burn_rate:rate72m" in rehearsal
    )


def test_promtool_check_rules_accepts_both_scales():
    promtool = binary("promtool")
    files = [str(RULES / f"shopsim-{scale}.rules.yml") for scale in SCALES]
    done = subprocess.run([promtool, "check", "rules", *files], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("SUCCESS") == 2


def test_every_alert_is_tested_firing_and_silent():
    for scale, factor in SCALES.items():
        tests = yaml.safe_load((RULES / f"shopsim-{scale}.test.yml").read_text())
        checks = [c for t in tests["tests"] for c in t["alert_rule_test"]]
        firing = {c["alertname"] for c in checks if c["exp_alerts"]}
        silent = {c["alertname"] for c in checks if not c["exp_alerts"]}
        assert firing == silent == _alerts(factor), scale


def test_promtool_test_rules_passes_at_both_scales():
    promtool = binary("promtool")
    files = [f"shopsim-{scale}.test.yml" for scale in SCALES]
    done = subprocess.run(
        [promtool, "test", "rules", *files], cwd=RULES, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("SUCCESS") == 2


def test_promtool_test_rules_catches_a_wrong_threshold(tmp_path):
    """The cases can fail: a fast-burn threshold raised to 40x no longer pages on an outage."""
    promtool = binary("promtool")
    rules = (RULES / "shopsim-rehearsal.rules.yml").read_text().replace("> 14.4", "> 40")
    (tmp_path / "shopsim-rehearsal.rules.yml").write_text(rules)
    tests = yaml.safe_load((RULES / "shopsim-rehearsal.test.yml").read_text())
    tests["tests"] = tests["tests"][:1]  # the outage case alone
    (tmp_path / "t.yml").write_text(yaml.safe_dump(tests))
    done = subprocess.run(
        [promtool, "test", "rules", "t.yml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "checkout_availability_fast_burn" in done.stdout + done.stderr
