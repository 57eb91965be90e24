"""The explicit table of fault types: every type is complete, small, and has its test file."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from shopsim.faults.base import FaultType
from shopsim.faults.table import FAULT_TYPES
from shopsim.settings import SERVICE_NAMES
from shopsim.validation import Model

HERE = Path(__file__).parent
REQUEST_FAULTS = {"latency", "error", "hang", "outage", "reset", "throttle"}
NAMES = sorted(FAULT_TYPES)


def test_table_lists_the_nineteen_types_by_their_own_names():
    assert len(FAULT_TYPES) == 19
    for name, cls in FAULT_TYPES.items():
        assert issubclass(cls, FaultType)
        assert cls.name == name
        assert cls.__module__ == f"shopsim.faults.types.{name}"


@pytest.mark.parametrize("name", NAMES)
def test_every_type_has_its_test_file(name):
    assert (HERE / f"test_fault_{name}.py").is_file(), f"tests/faults/test_fault_{name}.py"


@pytest.mark.parametrize("name", NAMES)
def test_every_type_says_what_it_models(name):
    cls = FAULT_TYPES[name]
    assert "summary" in vars(cls), f"{name} inherits its summary"
    assert isinstance(cls.summary, str) and 10 <= len(cls.summary) <= 100
    assert inspect.getmodule(cls).__doc__, f"{name}'s module has no docstring"


@pytest.mark.parametrize("name", NAMES)
def test_every_type_has_a_strict_params_model(name):
    params = FAULT_TYPES[name].Params
    assert issubclass(params, Model) and issubclass(params, BaseModel)
    assert params.model_config.get("strict") is True
    assert params.model_config.get("extra") == "forbid"
    params()  # every parameter has a default: `shopsim fault add <type>` needs no --param
    params.model_json_schema()  # GET /_chaos/types can describe it


@pytest.mark.parametrize("name", NAMES)
def test_every_type_is_typed_with_the_params_it_validates(name):
    cls = FAULT_TYPES[name]
    (base,) = [b for b in cls.__orig_bases__ if typing.get_origin(b) is FaultType]
    assert typing.get_args(base) == (cls.Params,), f"{name}: FaultType[...] is not its Params"


@pytest.mark.parametrize("name", NAMES)
def test_every_type_has_valid_directions_and_targets(name):
    cls = FAULT_TYPES[name]
    assert cls.directions, f"{name} has no direction"
    assert len(set(cls.directions)) == len(cls.directions)
    assert set(cls.directions) <= {"inbound", "outbound"}
    assert set(cls.targets) <= set(SERVICE_NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_type_is_exactly_one_kind_of_fault(name):
    cls = FAULT_TYPES[name]
    assert cls.request_fault == (name in REQUEST_FAULTS)  # carried out by the adapters
    assert not (cls.request_fault and cls.ambient)
    if cls.ambient:  # it acts on its own: it must be able to start and stop
        assert cls.start is not FaultType.start and cls.stop is not FaultType.stop
        assert cls.directions == ("inbound",)


@pytest.mark.parametrize("name", NAMES)
def test_every_type_module_is_under_100_lines(name):
    source = Path(inspect.getsourcefile(FAULT_TYPES[name]))
    lines = len(source.read_text().splitlines())
    assert lines < 100, f"{source.name} has {lines} lines"
