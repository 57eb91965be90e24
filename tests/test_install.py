"""shopsim installed from its wheel, as pip or pipx installs it, runs a game day from anywhere.

The wheel is built from a copy of the project's files, installed (without its dependencies,
which the machine has) into a fresh virtual environment, and run from a directory that has
nothing of shopsim in it, with PYTHONPATH unset so nothing of the checkout can be imported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import assert_all_gone, free_port_base

pytestmark = [pytest.mark.processes, pytest.mark.load]

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "loadtests" / "scenarios").glob("*.yaml"))
#: The control run: no faults and no stop conditions, so it ends with exit status 0.
SCENARIO = "steady-baseline"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """shopsim's wheel, built by pip from a copy of the project (the checkout stays clean)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("shopsim", "loadtests"):
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(work / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (path,) = (work / "dist").glob("shopsim-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed (dependencies from the machine)."""
    root = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(root)], check=True)
    installed = subprocess.run(
        [
            str(root / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--force-reinstall",
            str(wheel),
        ],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return root


def _outside_env() -> dict[str, str]:
    """The environment without PYTHONPATH: only what the venv has installed can be imported."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def test_the_wheel_ships_the_locust_project_and_every_scenario(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        str(path.relative_to(ROOT))
        for path in [
            *ROOT.glob("loadtests/*.py"),
            *ROOT.glob("loadtests/scenarios/*"),
            *ROOT.glob("loadtests/accuracy/*.yaml"),
        ]
    }
    assert "loadtests/locustfile.py" in expected
    assert "steady-baseline" in {p.stem for p in SCENARIOS}
    assert expected <= names, sorted(expected - names)
    assert "loadtests/scenarios/scenario.schema.json" in names
    assert not any(name.startswith("tests/") for name in names)


def test_the_installed_shopsim_is_the_wheels(venv, tmp_path):
    probe = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import shopsim, loadtests; print(shopsim.__file__); print(loadtests.__file__)",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_outside_env(),
    )
    assert probe.returncode == 0, probe.stderr
    for line in probe.stdout.splitlines():
        assert Path(line).is_relative_to(venv), line


def test_installed_shopsim_lists_its_scenarios(venv, tmp_path):
    listed = subprocess.run(
        [str(venv / "bin" / "shopsim"), "scenarios"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_outside_env(),
    )
    assert listed.returncode == 0, listed.stderr
    assert str(venv) in listed.stdout
    for path in SCENARIOS:
        assert f"  {path.stem} " in listed.stdout


def test_installed_shopsim_runs_a_builtin_gameday_from_another_directory(venv, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    decoy = elsewhere / "loadtests"  # a user's own folder of that name must not shadow ours
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("raise ImportError('the decoy was imported')\n")
    port_base = free_port_base()
    done = subprocess.run(
        [
            str(venv / "bin" / "shopsim"),
            "gameday",
            SCENARIO,
            "--time-scale",
            "30",
            "--out",
            "runs",
            "--port-base",
            str(port_base),
        ],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=_outside_env(),
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "completed" in done.stdout
    (run,) = (elsewhere / "runs").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["outcome"]["status"] == "completed"
    assert Path(manifest["locustfile"]).is_relative_to(venv)
    assert Path(manifest["scenario_file"]).is_relative_to(venv)
    assert "Aggregated" in (run / "locust_stats.csv").read_text()  # Locust really ran
    from shopsim.settings import Settings

    assert_all_gone(Settings(port_base=port_base), [])
