"""notification_misfire: the gift-alert audience query loses its registry filter.

Models the 2017 registry incident: a change to the "someone bought you a gift" mailing dropped
the join to the registry's subscribers. When this fault fires for a gift alert being sent,
notifications' sender takes `sender.misfired_gift_alert_audience` instead of the correct
audience (`gift_alert_audience`: the registry's subscribers): every contact, with no name.

Damage: one gift purchase mails its alert (the registry's title, the buyer, the items) to every
customer, most of whom own no registry at all, and every such mail opens "Hi Customer,"
because the name came with the join that is gone. Nothing is down: every request is a 2xx, no
error counter moves; only the mail sink (and shopsim_mail_sent_total) shows it.

Probability: drawn per gift alert sent (order confirmations never draw).
"""

from __future__ import annotations

from shopsim.faults.base import FaultType, NoParams
from shopsim.faults.logic import Logic


class NotificationMisfire(FaultType[NoParams]):
    """Gift alerts go to every customer, greeted "Hi Customer,", instead of the subscribers."""

    name = Logic.NOTIFICATION_MISFIRE
    summary = "gift alerts lose their registry filter: every customer gets one, 'Hi Customer,'"
    directions = ("inbound",)
    targets = ("notifications",)
