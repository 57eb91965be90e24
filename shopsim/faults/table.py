"""The explicit table of fault types: name -> class. Adding a type means adding a line here
(see FAULTS.md); nothing registers itself on import. Logic types take their names from
shopsim.faults.logic, where their switch points find them."""

from __future__ import annotations

from types import MappingProxyType

from pydantic import BaseModel

from shopsim.faults.base import FaultType
from shopsim.faults.types.cache_off import CacheOff
from shopsim.faults.types.cpu_burn import CpuBurn
from shopsim.faults.types.crash import Crash
from shopsim.faults.types.db_lock import DbLock
from shopsim.faults.types.db_slow import DbSlow
from shopsim.faults.types.duplicate_charge import DuplicateCharge
from shopsim.faults.types.error import Error
from shopsim.faults.types.gateway_timeout_after_capture import GatewayTimeoutAfterCapture
from shopsim.faults.types.hang import HangFault
from shopsim.faults.types.latency import Latency
from shopsim.faults.types.memory_leak import MemoryLeak
from shopsim.faults.types.notification_misfire import NotificationMisfire
from shopsim.faults.types.outage import Outage
from shopsim.faults.types.outbox_stall import OutboxStall
from shopsim.faults.types.oversell_race import OversellRace
from shopsim.faults.types.payment_decline import PaymentDecline
from shopsim.faults.types.poison_message import PoisonMessage
from shopsim.faults.types.reset import ResetFault
from shopsim.faults.types.throttle import Throttle

FAULT_TYPES: MappingProxyType[str, type[FaultType[BaseModel]]] = MappingProxyType(
    {
        str(cls.name): cls
        for cls in (
            Latency,
            Error,
            HangFault,
            Outage,
            ResetFault,
            Throttle,
            CpuBurn,
            MemoryLeak,
            DbSlow,
            DbLock,
            CacheOff,
            PaymentDecline,
            GatewayTimeoutAfterCapture,
            DuplicateCharge,
            OversellRace,
            NotificationMisfire,
            OutboxStall,
            PoisonMessage,
            Crash,
        )
    }
)
