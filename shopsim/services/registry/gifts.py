"""Recording a gift: one transaction marks the registry's lines bought and stores the purchase.

The purchase row is keyed by order_id and keeps its reply, so the same order again is answered
with the first reply (200) and never counted twice; the same order_id with other details is 409.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from shopsim.context import ServiceContext
from shopsim.errors import Conflict, NotFound
from shopsim.services.registry import state
from shopsim.services.registry.tables import find_registry, items, purchases


def record_purchase(
    ctx: ServiceContext,
    registry_id: int,
    order_id: str,
    lines: list[dict[str, Any]],
    buyer_name: str,
) -> tuple[int, Any]:
    """Insert the purchase and mark the items bought; or find the earlier one for a replay."""
    with ctx.db.write() as conn:
        done = conn.execute(select(purchases).where(purchases.c.order_id == order_id)).first()
        if done is not None:
            earlier = (done.registry_id, json.loads(done.items), done.buyer_name)
            if earlier != (registry_id, lines, buyer_name):
                raise Conflict(
                    f"order {order_id} was already recorded with other details",
                    field="order_id",
                    code="idempotency_key_reused",
                )
            return 200, json.loads(done.response_body)
        reg = find_registry(conn, registry_id)
        # Lock the registry's lines in SKU order (PostgreSQL) so concurrent gifts serialise.
        wanted = {
            r.sku
            for r in conn.execute(
                select(items.c.sku)
                .where(items.c.registry_id == registry_id)
                .order_by(items.c.sku)
                .with_for_update()
            )
        }
        for i, line in enumerate(lines):
            if line["sku"] not in wanted:
                raise NotFound(
                    f"{line['sku']} is not on registry {registry_id}",
                    field=f"items[{i}].sku",
                    code="not_on_registry",
                )
        for line in sorted(lines, key=lambda x: str(x["sku"])):
            conn.execute(
                items.update()
                .where(items.c.registry_id == registry_id, items.c.sku == line["sku"])
                .values(purchased=items.c.purchased + line["quantity"])
            )
        response = {"registry_id": registry_id, "order_id": order_id, "items": lines}
        conn.execute(
            purchases.insert().values(
                order_id=order_id,
                registry_id=registry_id,
                items=json.dumps(lines),
                buyer_name=buyer_name,
                alert_state="pending",
                created_at=time.time(),
                response_body=json.dumps(response),
            )
        )
    state.of(ctx).gifts.labels(reg.kind).inc()
    return 201, response
