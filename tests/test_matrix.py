"""The resiliency matrix: its judgement on synthetic attempts, and two facts of the design held
on a real store (one short run shared by both)."""

from __future__ import annotations

import json

import pytest

from shopsim.cli import main
from shopsim.matrix.cells import Cell, Timing, Verdict, judge, judge_email
from shopsim.matrix.journeys import JOURNEYS, Attempt
from shopsim.matrix.render import page, table, to_json
from shopsim.matrix.run import run_matrix


def _tries(*outcomes: tuple[bool, float]) -> list[Attempt]:
    return [Attempt("checkout", ok, "201" if ok else "503 x", s) for ok, s in outcomes]


def test_judge_tells_works_degrades_and_breaks_apart():
    assert judge(_tries((True, 0.5), (True, 0.6)), baseline_s=0.5).state == "works"
    assert judge(_tries((True, 0.5), (False, 0.1)), baseline_s=0.5).state == "degrades"
    slow = judge(_tries((True, 3.0), (True, 3.2)), baseline_s=0.5)
    assert slow.state == "degrades" and "median 3.10s" in slow.evidence
    broken = judge(_tries((False, 0.1), (False, 0.1)), baseline_s=0.5)
    assert (broken.state, broken.evidence) == ("breaks", "0/2 succeeded: 2x 503 x")


def test_judge_email_from_when_the_mail_arrived():
    assert judge_email(3, 0, 0).state == "works"
    assert judge_email(1, 2, 0).state == "degrades"
    assert judge_email(1, 1, 1).state == "breaks"
    assert "no order" in judge_email(0, 0, 0).evidence


def test_renderings_carry_every_cell_and_its_evidence():
    cell = Cell("cart", "outage", {j: Verdict("works", "4/4 succeeded") for j in JOURNEYS}, 2.0)
    cell.verdicts["checkout"] = Verdict("breaks", "0/4 <503>")
    data = to_json([cell], {"summary": "one"})
    assert data["cells"][0]["journeys"]["checkout"] == {"state": "breaks", "evidence": "0/4 <503>"}
    json.dumps(data)
    assert "BREAK" in table([cell]).splitlines()[2]
    assert "0/4 &lt;503&gt;" in page([cell], {})


def test_matrix_refuses_an_unknown_dependency(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["matrix", "--only", "storefront"])
    assert exit_.value.code == 2
    assert "--only: one of catalog" in capsys.readouterr().err


@pytest.mark.processes
@pytest.mark.load
def test_design_facts_notifications_and_cart_outages(live_settings):
    found = run_matrix(
        live_settings,
        ("notifications", "cart"),
        ("outage",),
        Timing(window_s=4.0, mail_wait_s=30.0),
        echo=lambda line: None,
    )
    notifications, cart = found.cells
    states = {j: v.state for j, v in notifications.verdicts.items()}
    # the outbox decouples checkout from notifications; the email comes once they are back
    assert states["checkout"] == "works", notifications.verdicts["checkout"]
    email = notifications.verdicts["order_email"]
    assert email.state == "degrades" and "only after recovery" in email.evidence
    # without cart, browsing stays up and nobody can check out
    assert cart.verdicts["browse"].state == "works", cart.verdicts["browse"]
    assert cart.verdicts["checkout"].state == "breaks"
    assert "dependency_failed" in cart.verdicts["checkout"].evidence
    assert notifications.recovered_s is not None and cart.recovered_s is not None
