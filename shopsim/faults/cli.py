"""`shopsim fault add|ls|rm|reset|types`: faults on a running store from the command line.

    shopsim fault add latency --target payment --param ms=800 --duration 60s
    shopsim fault ls
    shopsim fault rm latency-payment-1a2b
    shopsim fault reset

Exit status 0 on success, 1 when the store refused or did not answer, 2 for a usage mistake
(a fault spec that does not validate is one: nothing is sent).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from typing import Any

from shopsim.argtypes import bounded
from shopsim.errors import ShopsimError
from shopsim.faults.control import ChaosClient, ChaosError
from shopsim.faults.spec import NAME_PATTERN, FaultSpec, build_spec
from shopsim.faults.table import FAULT_TYPES
from shopsim.settings import Settings

#: A spec field -> the argument of `shopsim fault add` that gave it.
OPTIONS = {"type": "TYPE", "duration_s": "--duration", "params": "--param"}


def _param(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--param takes KEY=VALUE, not {text!r}")
    try:
        return key, json.loads(value)  # 800 -> int, true -> bool, "[...]" -> list
    except ValueError:
        return key, value  # plain text


def _fault_name(text: str) -> str:
    if not re.match(NAME_PATTERN, text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a fault name (lowercase letters, digits, - and _); "
            "`shopsim fault ls` lists them"
        )
    return text


def _usage_error(err: ShopsimError) -> str:
    """A spec error in terms of the command line: the option that gave the field, and why."""
    field = err.field or ""
    head, _, rest = field.partition(".")
    option = OPTIONS.get(head, f"--{head}") + (f" {rest}" if rest else "")
    for prefix, joint in ((f"{field}: ", ": "), (f"{field} ", " ")):
        if field and err.message.startswith(prefix):
            return f"{option}{joint}{err.message.removeprefix(prefix)}"
    return f"{option}: {err.message}" if field else err.message


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], port_base: Callable[..., None]
) -> None:
    """Register `shopsim fault ...` on the CLI."""
    fault = sub.add_parser("fault", help="add, list and remove faults on a running store")
    actions = fault.add_subparsers(dest="fault_command", required=True)

    add = actions.add_parser("add", help="inject a fault (it expires by itself)")
    add.add_argument("type", help=f"one of: {', '.join(sorted(FAULT_TYPES))}")
    add.add_argument("--target", required=True, metavar="SERVICE", help="the service it hits")
    add.add_argument(
        "--param",
        type=_param,
        action="append",
        default=[],
        metavar="K=V",
        help="a parameter of the fault type; repeatable",
    )
    add.add_argument(
        "--probability",
        type=bounded("--probability", 0, 1),
        default=1.0,
        metavar="P",
        help="chance per request, 0..1 (default 1)",
    )
    add.add_argument(
        "--duration",
        required=True,
        metavar="D",
        help="how long it lasts: 60s, 5m, 500ms (at most 1h)",
    )
    add.add_argument("--name", help="a name to remove it by (default: generated)")
    add.add_argument(
        "--direction",
        choices=("inbound", "outbound"),
        help="inbound: the target's handling; outbound: its callers' calls",
    )
    add.add_argument("--route", help="inbound only: glob over route templates (default *)")
    port_base(add)

    for name, text in (
        ("ls", "list active faults"),
        ("reset", "remove every fault, restore resilience"),
    ):
        port_base(actions.add_parser(name, help=text))
    rm = actions.add_parser("rm", help="remove a fault by name")
    rm.add_argument("name", type=_fault_name)
    port_base(rm)
    actions.add_parser("types", help="the fault types and what they do")


def cmd_fault(args: argparse.Namespace) -> int:
    """Run one `shopsim fault` subcommand."""
    if args.fault_command == "types":
        for name, cls in sorted(FAULT_TYPES.items()):
            print(f"  {name:<30} {cls.summary}")
        return 0
    try:
        # an argument mistake is refused before any store is asked
        spec = build_spec(_raw_spec(args)) if args.fault_command == "add" else None
        with ChaosClient(Settings(port_base=args.port_base)) as chaos:
            return _run(chaos, args, spec)
    except ShopsimError as err:  # the spec itself is wrong: nothing was applied
        print(f"shopsim fault add: {_usage_error(err)}; nothing was applied", file=sys.stderr)
        return 2
    except ChaosError as err:
        print(f"shopsim fault: {err}", file=sys.stderr)
        return 1


def _raw_spec(args: argparse.Namespace) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "type": args.type,
        "target": args.target,
        "params": dict(args.param),
        "probability": args.probability,
        "duration": args.duration,
    }
    for key in ("name", "direction", "route"):
        if getattr(args, key):
            raw[key] = getattr(args, key)
    return raw


def _run(chaos: ChaosClient, args: argparse.Namespace, spec: FaultSpec | None) -> int:
    if spec is not None:
        name, services = chaos.add(spec)
        print(f"added {name} (applied by {', '.join(services)})")
    elif args.fault_command == "rm":
        print(f"removed {args.name} from {', '.join(chaos.remove(args.name))}")
    elif args.fault_command == "reset":
        results = chaos.reset()
        failed = {s: r for s, r in results.items() if isinstance(r, str)}
        removed = sum(r for r in results.values() if isinstance(r, int))
        where = " where the store answered" if failed else ""
        print(f"removed {removed} fault(s); resilience settings back to their defaults{where}")
        for service, reason in failed.items():
            print(f"  {service}: {reason}", file=sys.stderr)
        return 1 if failed else 0
    else:
        listed = chaos.list()
        if not listed:
            print("no active faults")
        for item in listed:
            f = item.fault
            print(
                f"  {f['name']:<32} {f['type']:<16} {f['direction']:<8} -> {f['target']:<13} "
                f"at {item.service:<13} p={f['probability']:<5g} "
                f"{f['expires_in_s']:>7.1f}s left  {f['injections']} hits"
            )
    return 0
