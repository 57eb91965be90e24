"""The load generator's reading of the pages a customer sees (loadtests/visit.py, no Locust)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # loadtests/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(ROOT))

from loadtests.visit import SOLD_OUT  # noqa: E402
from shopsim.errors import Conflict  # noqa: E402
from shopsim.services.storefront.errorpages import friendly  # noqa: E402


def _refusal(available: int) -> str:
    err = Conflict(
        "not enough stock",
        code="insufficient_stock",
        extra={"sku": "DB-0001", "available": available},
    )
    return friendly(err)


def test_a_sold_out_checkout_is_recognised_with_stock_left_none_or_oversold():
    # flash-sale-oversell: after the race, DB-0001 has on_hand -1 and the store says "only -1";
    # unrecognised, every later buyer's 409 counted as a failed checkout and the doorbuster
    # stayed in their carts, so checkout availability fell to 34%
    for available in (1, 0, -1, -12):
        found = SOLD_OUT.search(_refusal(available))
        assert found is not None and found.group(1) == "DB-0001"
