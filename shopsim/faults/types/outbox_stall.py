"""outbox_stall: the notifications sender stops sending; the outbox backs up.

Models a sender that is alive but stuck (a wedged worker, a lost lease, an SMTP relay it waits
on forever). When this fault fires for a round of `sender.send_pending`, the round returns 0
without reading or touching a message. Enqueueing still answers 202, so callers see nothing.

Damage: mail is late, not lost: shopsim_outbox_depth and
shopsim_outbox_oldest_message_age_seconds grow for as long as the stall lasts. When it ends,
the next rounds drain the backlog oldest first, each message exactly once (the outbox row and
the mail sink's unique (message_id, recipient) make a resend harmless).

Probability: drawn per sender round.
"""

from __future__ import annotations

from shopsim.faults.base import FaultType, NoParams
from shopsim.faults.logic import Logic


class OutboxStall(FaultType[NoParams]):
    """Sender rounds send nothing while the fault fires."""

    name = Logic.OUTBOX_STALL
    summary = "the notifications sender's rounds send nothing; outbox depth and age grow"
    directions = ("inbound",)
    targets = ("notifications",)
