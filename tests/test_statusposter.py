"""The auto-poster's decisions on made-up alert rounds: open, update, monitor, resolve, with
the data statement from the audit; and the words it uses."""

from __future__ import annotations

import json

from shopsim.gameday.livealerts import Firing, LiveAlerts
from shopsim.gameday.statusposter import StatusPoster
from shopsim.gameday.statuswords import components_hurt, data_statement, status_of
from shopsim.verdict.alerts import Alert

FAST = Alert("checkout_availability_fast_burn", "burn_rate", "page", 10.0, None, 40.0,
             slo="checkout_availability")  # fmt: skip


class Page:
    """A stand-in for the storefront's status page: keeps what was posted."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []

    def __call__(self, method, path, body):
        self.calls.append((method, path, body))
        return {"id": 7}


def poster(tmp_path, page):
    live = LiveAlerts(1000.0, [], 60.0, 5.0)
    clock = iter(range(1000))
    return StatusPoster(
        live,
        page,
        tmp_path / "status.jsonl",
        lambda: {"storefront": "sqlite:///nowhere"},
        update_every_s=10.0,
        resolve_after_s=5.0,
        echo=lambda line: None,
        clock=lambda: float(next(clock)),
    )


def rounds(p, start, end, alerts, failing):
    for t in range(start, end):
        p.step(Firing(float(t), alerts, failing))


def test_an_incident_is_opened_updated_monitored_and_resolved(tmp_path, monkeypatch):
    page = Page()
    p = poster(tmp_path, page)
    clean = {"checked": True, "violations": {}}
    monkeypatch.setattr(
        "shopsim.gameday.statusposter.read_store",
        lambda dbs, now: type("F", (), {"integrity": clean})(),
    )
    rounds(p, 0, 10, (), {"checkout": 0.0})
    assert page.calls == []  # quiet: the page stays silent
    rounds(p, 10, 31, (FAST,), {"checkout": 0.6, "gift": 0.2, "browse": 0.0})
    rounds(p, 31, 40, (), {"checkout": 0.0})
    statuses = [c[2]["status"] for c in page.calls]
    assert statuses == [
        "investigating",  # 10
        "identified",  # 20
        "identified",  # 30
        "monitoring",  # 31
        "resolved",  # 36
    ]
    first = page.calls[0][2]
    assert first["components"] == {"checkout": "major_outage", "gift_registry": "partial_outage"}
    assert first["impact"] == "critical"
    assert page.calls[1][1] == "/incidents/7/updates"
    assert page.calls[0][2]["message"] == (
        "Some customers have problems with checkout (60% of attempts failing), the gift registry"
        " (20% of attempts failing). We are investigating."
    )
    assert page.calls[3][2]["message"].startswith("Things are working again for checkout, the")
    resolved = page.calls[-1][2]["message"]
    assert "No data was lost or corrupted" in resolved
    records = [json.loads(line) for line in (tmp_path / "status.jsonl").read_text().splitlines()]
    assert [r["status"] for r in records] == statuses
    assert records[-1]["data_impact"] == "none"


def test_a_run_ending_mid_incident_resolves_it_with_what_the_audit_found(tmp_path, monkeypatch):
    page = Page()
    p = poster(tmp_path, page)
    harmed = {"checked": True, "violations": {"double_charge": 2}, "meanings": {}}
    monkeypatch.setattr(
        "shopsim.gameday.statusposter.read_store",
        lambda dbs, now: type("F", (), {"integrity": harmed})(),
    )
    rounds(p, 0, 3, (FAST,), {"checkout": 0.3})
    p.step(Firing(3.0, (FAST,), {"checkout": 0.3}), final=True)
    assert [c[2]["status"] for c in page.calls] == ["investigating", "resolved"]
    assert "Some data was affected: double_charge (2)" in page.calls[-1][2]["message"]


def test_component_status_follows_the_failing_share():
    assert [status_of(s) for s in (0.0, 0.03, 0.2, 0.9)] == [
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
    ]
    latency = Alert("checkout_latency_fast_burn", "burn_rate", "page", 1.0, None, 20.0,
                    slo="checkout_latency")  # fmt: skip
    assert components_hurt(Firing(1.0, (latency,), {"checkout": 0.0})) == {
        "checkout": "degraded_performance"
    }
    mail = Alert("gift_alerts_out_of_proportion", "business", "page", 1.0, None, 9.0)
    assert components_hurt(Firing(1.0, (mail,), {"cart": 0.15})) == {
        "cart": "partial_outage",
        "order_emails": "degraded_performance",
    }


def test_the_data_statement_never_claims_what_was_not_checked():
    assert data_statement(None)[0] == "unknown"
    assert data_statement({"checked": False, "reason": "no databases"})[0] == "unknown"
    assert data_statement({"checked": True, "violations": {}})[0] == "none"
