"""Live alerts are the verdict's: evaluated round by round on made-up scrapes, each round's
firing set is what the verdict, given the whole run, says was firing at that moment."""

from __future__ import annotations

from shopsim.gameday.livealerts import LiveAlerts
from shopsim.gameday.sampler import Snapshot
from shopsim.verdict.alerts import evaluate
from shopsim.verdict.samples import Samples
from shopsim.verdict.series import derive
from shopsim.verdict.slo import Slo, factor_for

ORIGIN = 1_000_000.0
SLOS = [Slo("checkout_availability", 0.99, "checkout_availability")]


def scrapes(rounds: int, bad_from: int, bad_to: int) -> list[Snapshot]:
    """Five checkouts a second; between bad_from and bad_to four in five fail."""
    ok = bad = 0.0
    out = []
    for i in range(rounds):
        failing = bad_from <= i < bad_to
        ok += 1 if failing else 5
        bad += 4 if failing else 0
        checkouts = "shopsim_load_checkouts_total"
        values = {
            (checkouts, frozenset({("result", "ok")})): ok,
            (checkouts, frozenset({("result", "failure")})): bad,
            (
                "shopsim_load_requests_total",
                frozenset({("flow", "checkout"), ("result", "ok")}),
            ): ok,
            (
                "shopsim_load_requests_total",
                frozenset({("flow", "checkout"), ("result", "server_error")}),
            ): bad,
            ("shopsim_unrelated_total", frozenset()): float(i),
        }
        out.append(Snapshot(at=ORIGIN + 1 + i, values={"load": values}))
    return out


def test_each_round_fires_what_the_whole_run_says_fired_then():
    live = LiveAlerts(ORIGIN, SLOS, factor_for(1.0), 5.0)
    seen = []
    for snap in scrapes(90, 20, 40):
        live.add(snap)
        now = live.now()
        seen.append((now.at_s, {a.name for a in now.alerts}, now.failing))
    whole = LiveAlerts(ORIGIN, SLOS, factor_for(1.0), 5.0)
    for snap in scrapes(90, 20, 40):
        whole.add(snap)
    alerts = evaluate(derive(Samples(whole.rounds, whole.sources), ORIGIN, {}), SLOS, 60.0)
    for at, names, _ in seen:
        expected = {
            a.name
            for a in alerts
            if a.severity == "page"
            and a.fired_at_s <= at
            and (a.cleared_at_s is None or a.cleared_at_s > at)
        }
        assert names == expected, at
    fired = [at for at, names, _ in seen if "checkout_availability_fast_burn" in names]
    assert fired and 21 <= fired[0] <= 26 and fired[-1] < 90  # fires in the burst, then clears
    assert seen[30][2]["checkout"] == 0.8  # four in five failing, over the last 5 s
    assert "shopsim_unrelated_total" not in whole.sources["load"].by_name  # only what alerts read
