"""`shopsim prometheus-config` and `shopsim export` as a user runs them, and `gameday
--prometheus` refusing to start without Prometheus."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.prom.tools import binary


def _shopsim(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "shopsim", *args], cwd=cwd, capture_output=True, text=True, env=env
    )


def test_prometheus_config_writes_a_config_promtool_accepts(tmp_path):
    done = _shopsim("prometheus-config", "--port-base", "12000", "--out", "p", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    config = tmp_path / "p" / "prometheus.yml"
    check = subprocess.run(
        [binary("promtool"), "check", "config", str(config)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    data = yaml.safe_load(config.read_text())
    targets = [
        t for job in data["scrape_configs"] for c in job["static_configs"] for t in c["targets"]
    ]
    assert "127.0.0.1:9646" in targets and len(targets) == 9
    assert "rate1m" in (tmp_path / "p" / "shopsim.rules.yml").read_text()


def test_prometheus_config_production_scale_and_bad_arguments(tmp_path):
    done = _shopsim("prometheus-config", "--production", "--out", "p", cwd=tmp_path)
    assert done.returncode == 0 and "rate3d" in (tmp_path / "p" / "shopsim.rules.yml").read_text()
    bad = _shopsim("prometheus-config", "--load-metrics-port", "0", cwd=tmp_path)
    assert bad.returncode == 2 and "--load-metrics-port" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_export_refuses_what_is_not_a_run(tmp_path):
    missing = _shopsim("export", str(tmp_path / "nope"), cwd=tmp_path)
    assert missing.returncode == 2 and "RUN_DIR" in missing.stderr
    empty = _shopsim("export", str(tmp_path), cwd=tmp_path)
    assert empty.returncode == 1 and "no samples" in empty.stderr


def test_gameday_prometheus_without_prometheus_on_path_is_refused_before_anything_starts(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # python by its full path; no prometheus
    done = _shopsim(
        "gameday", "steady-baseline", "--prometheus", "--out", "runs", cwd=tmp_path, env=env
    )
    assert done.returncode == 2 and "prometheus" in done.stderr
    assert not (tmp_path / "runs").exists()
