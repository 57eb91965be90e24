"""Scenario files that attack the loader: each is refused at once, exit status 2, a clear line.

The timeout on each test is only a safety net (before the limits, an alias bomb ran for
minutes); the assertions are on the exit status and the message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shopsim.cli import main
from shopsim.gameday.guard import MAX_BYTES, MAX_DEPTH, MAX_VALUES, shape_problem
from shopsim.gameday.loader import ScenarioError, load_scenario, parse_scenario

pytestmark = pytest.mark.timeout(60)

HEAD = """\
name: t
description: a test scenario
duration: 100s
load:
  model: open
  stages:
    - {duration: 30s, rate: 4}
"""


def _refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | bytes) -> str:
    """Run `shopsim gameday` on the text; assert it exits 2 before starting; return stderr."""
    path = tmp_path / "attack.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    code = main(["gameday", str(path), "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # nothing started
    return err


def billion_laughs(levels: int = 9) -> str:
    """The classic: each level is nine aliases of the level below (9**9 strings in all)."""
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused(tmp_path, capsys):
    err = _refused(tmp_path, capsys, HEAD + billion_laughs())
    # line 12: the fourth level of aliases is the first to stand for more than MAX_VALUES
    assert f"attack.yaml:12: more than {MAX_VALUES} values once its aliases are expanded" in err


def test_alias_bomb_in_merge_keys_is_refused(tmp_path, capsys):
    text = HEAD + "a0: &a0 {" + ", ".join(f"k{i}: {i}" for i in range(20)) + "}\n"
    for i in range(1, 8):
        merges = ", ".join(f"*a{i - 1}" for _ in range(20))
        text += f"a{i}: &a{i}\n  <<: [{merges}]\n"
    assert "once its aliases are expanded" in _refused(tmp_path, capsys, text)


def test_thirty_megabytes_are_refused_without_reading_them(tmp_path, capsys):
    fault = "  - {at: 30s, duration: 45s, type: latency, target: payment, params: {ms: 800}}\n"
    body = HEAD + "faults:\n" + fault * (30 * 1024 * 1024 // len(fault))
    err = _refused(tmp_path, capsys, body)
    assert f"attack.yaml: larger than {MAX_BYTES // 1024} KiB" in err


def test_a_device_that_never_ends_is_refused(capsys):
    code = main(["gameday", "/dev/zero"])
    assert code == 2
    assert "larger than" in capsys.readouterr().err


def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path, capsys):
    err = _refused(tmp_path, capsys, HEAD + "x: " + "[" * 5000 + "]" * 5000 + "\n")
    assert f"attack.yaml:8: nested more than {MAX_DEPTH} levels deep" in err


def test_deep_block_nesting_is_refused(tmp_path, capsys):
    text = HEAD + "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "end: 1\n"
    assert "levels deep" in _refused(tmp_path, capsys, text)


def test_recursive_alias_is_refused(tmp_path, capsys):
    err = _refused(tmp_path, capsys, HEAD + "loop: &loop [1, *loop]\n")
    assert "attack.yaml:8: alias *loop refers to its own anchor (recursion)" in err


def test_integer_too_long_for_python_is_refused(tmp_path, capsys):
    err = _refused(tmp_path, capsys, HEAD + "seed: " + "9" * 5000 + "\n")
    assert "attack.yaml:8: an integer of 5000 digits" in err


def test_many_plain_values_are_refused(tmp_path, capsys):
    text = HEAD + "x: [" + ", ".join(["1"] * (MAX_VALUES + 10)) + "]\n"
    assert f"more than {MAX_VALUES} values; a scenario needs far fewer" in _refused(
        tmp_path, capsys, text
    )


# --- what stays allowed ----------------------------------------------------------------------


def test_anchors_and_aliases_used_sensibly_still_work(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        HEAD.replace("rate: 4}", "rate: 4}\n    - {duration: 30s, rate: 4}")
        + "faults:\n"
        + "  - &slow {at: 10s, duration: 5s, type: latency, target: payment, params: {ms: 50}}\n"
        + "  - {<<: *slow, at: 40s}\n"
    )
    scenario = load_scenario(path)
    assert [f.at_s for f in scenario.faults] == [10.0, 40.0]
    assert scenario.faults[1].params == {"ms": 50}


def test_a_file_of_exactly_the_limit_loads(tmp_path):
    path = tmp_path / "s.yaml"
    padding = MAX_BYTES - len(HEAD.encode())
    path.write_bytes(HEAD.encode() + b"#" * (padding - 1) + b"\n")
    assert path.stat().st_size == MAX_BYTES
    assert load_scenario(path).name == "t"
    path.write_bytes(path.read_bytes() + b"\n")
    with pytest.raises(ScenarioError, match="larger than"):
        load_scenario(path)


def test_depth_limit_is_exact():
    def nested(depth: int) -> str:
        return "[" * depth + "]" * depth

    assert shape_problem(nested(MAX_DEPTH)) is None
    too_deep = f"nested more than {MAX_DEPTH} levels deep; a scenario needs 6"
    assert shape_problem(nested(MAX_DEPTH + 1)) == (1, too_deep)
    # an alias carries its anchor's depth with it: 1 + 31 levels is fine, 1 + 1 + 31 is not
    deep_anchor = f"a: &d {nested(MAX_DEPTH - 1)}\nb: [*d]\n"
    assert shape_problem(deep_anchor) == (
        2,
        f"nested more than {MAX_DEPTH} levels deep once its aliases are expanded",
    )


def test_parse_scenario_refuses_oversized_text():
    with pytest.raises(ScenarioError, match="<scenario>: larger than"):
        parse_scenario(HEAD + "#" * MAX_BYTES)


def test_syntax_errors_keep_their_messages():
    with pytest.raises(ScenarioError, match=r"<scenario>:9: YAML syntax error"):
        parse_scenario(HEAD + "faults: [\n  - x: 1\n")
