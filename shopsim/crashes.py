"""A service killing itself on purpose (the crash fault), and the record its supervisor reads.

The contract between a crashing service and the `Stack` that started it:

1. The Stack starts every service with ``SHOPSIM_CRASH_DIR`` in its environment: the directory
   where crash records go. Without it nothing can restart the service, so it refuses to crash.
2. The service writes ``<dir>/<service>.json`` (who, its process group, when to restart it),
   then SIGKILLs its own process group a moment later (once the chaos API has answered): the
   gunicorn master and its worker die at once, with no cleanup, in-flight requests and all.
3. The Stack's watcher sees the process gone with a record naming that process group, starts
   the service again on the same port with the same data at `restart_at`, and removes the
   record. A service that dies without a record is reported as dead, never restarted.

Safety: a service only kills a process group it leads the session of, as the Stack starts them
(``start_new_session``): the gunicorn master is the group and session leader and the worker's
parent. Anything else (an app in the test process, a hand-started gunicorn) refuses.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

CRASH_DIR_ENV = "SHOPSIM_CRASH_DIR"
KILL_DELAY_S = 0.3  # lets the chaos API's answer reach the caller before the process dies


@dataclass(frozen=True)
class CrashRecord:
    """What a crashing service leaves for its supervisor."""

    service: str
    pgid: int  # the process group that was killed: the supervisor's child's pid
    crashed_at: float  # wall clock
    restart_at: float  # wall clock


def record_path(crash_dir: Path, service: str) -> Path:
    """Where `service`'s crash record goes."""
    return crash_dir / f"{service}.json"


def read_record(crash_dir: Path, service: str) -> CrashRecord | None:
    """The service's pending crash record, if there is a readable one."""
    try:
        data = json.loads(record_path(crash_dir, service).read_text())
        return CrashRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def refusal() -> str | None:
    """Why this process may not crash itself, or None when it may."""
    if not os.environ.get(CRASH_DIR_ENV):
        return "no supervisor would restart this service (start it with `shopsim up` or a game day)"
    group = os.getpgrp()
    if os.getppid() != group or os.getsid(0) != group:
        return "this process is not a worker of a service started by shopsim's supervisor"
    return None


def crash_self(service: str, restart_after_s: float) -> CrashRecord:
    """Leave a crash record, then SIGKILL this service's process group in KILL_DELAY_S.

    Raises RuntimeError (with `refusal()`'s reason) when the process may not crash itself."""
    reason = refusal()
    if reason is not None:
        raise RuntimeError(reason)
    crash_dir = Path(os.environ[CRASH_DIR_ENV])
    now = time.time()
    record = CrashRecord(service, os.getpgrp(), now, now + KILL_DELAY_S + restart_after_s)
    crash_dir.mkdir(parents=True, exist_ok=True)
    path = record_path(crash_dir, service)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(asdict(record)))
    partial.replace(path)  # the supervisor never reads half a record

    def kill() -> None:
        time.sleep(KILL_DELAY_S)
        os.killpg(record.pgid, signal.SIGKILL)

    threading.Thread(target=kill, name=f"crash-{service}", daemon=True).start()
    return record
