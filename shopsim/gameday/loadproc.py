"""The load generator: Locust, headless, as a subprocess in its own process group.

Locust monkey-patches the standard library with gevent when imported, so it never runs inside
shopsim's own process. The load plan travels in ``SHOPSIM_LOAD_PLAN``; Locust writes its CSV,
HTML and JSON reports into the run directory. `stop()` ends it (SIGTERM, then SIGKILL of the
group, workers included) and is safe to call on every exit path.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from shopsim.gameday.bundled import locustfile
from shopsim.runner import die_with_parent, signal_group

PLAN_ENV = "SHOPSIM_LOAD_PLAN"


class LoadProcess:
    """One headless Locust run."""

    def __init__(
        self,
        *,
        host: str,
        plan: dict[str, Any],
        out_dir: Path,
        run_time_s: float,
        stop_timeout_s: int = 5,
        processes: int = 1,
    ) -> None:
        self.out_dir = out_dir
        self.log_path = out_dir / "locust.log"
        self.command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(locustfile()),
            "--headless",
            "--host",
            host,
            "--run-time",
            f"{max(1, round(run_time_s))}s",
            "--stop-timeout",
            str(stop_timeout_s),
            "--csv",
            str(out_dir / "locust"),
            "--html",
            str(out_dir / "locust.html"),
            "--json-file",
            str(out_dir / "locust"),
            "--only-summary",
            "--exit-code-on-error",
            "0",
        ]
        if processes > 1:
            self.command += ["--processes", str(processes)]
        self.env = os.environ | {PLAN_ENV: json.dumps(plan)}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Launch Locust."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,  # noqa: PLW1509 - prctl only; no locks taken
            )

    def running(self) -> bool:
        """True while Locust has not exited."""
        return self.proc is not None and self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """Locust's exit status, once it has exited."""
        return None if self.proc is None else self.proc.poll()

    def wait(self, timeout_s: float) -> bool:
        """Wait for Locust to end by itself; True if it did."""
        if self.proc is None:
            return True
        try:
            self.proc.wait(timeout=timeout_s)
            return True
        except subprocess.TimeoutExpired:
            return False

    def stop(self, grace_s: float = 10.0) -> None:
        """End Locust and every worker it forked; idempotent."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            signal_group(self.proc.pid, signal.SIGTERM)
            if not self.wait(grace_s):
                signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        signal_group(self.proc.pid, signal.SIGKILL)  # stragglers in the group
