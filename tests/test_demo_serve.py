"""The README's run command: into an empty database, a small simulated region with the scenario households
beside it, and one working demo token per role (new ones at every start, the old ones revoked)."""

from __future__ import annotations

import pytest

import budget_ledger.adapters.cli.main as cli_main
from budget_ledger.access import Role
from budget_ledger.adapters.db.bootstrap import services as build_services
from budget_ledger.demo import DEMO_ACTORS, issue_demo_tokens


@pytest.fixture
def small_region(monkeypatch):
    monkeypatch.setitem(cli_main.DEMO_REGION, "households", 2)
    monkeypatch.setitem(cli_main.DEMO_REGION, "months", 1)


def test_the_demo_fills_an_empty_database_once_and_prints_a_token_per_role(database, small_region):
    bundle = build_services(database)
    said = cli_main.load_demo(database, bundle)
    assert "2 simulated households" in said and "S1" in said
    names = [h.aanvrager.name for h in bundle.households.list()]
    assert "Yonas Tesfay" in names and len(names) == 4
    assert cli_main.load_demo(database, bundle) == "the database already holds data; demo data not loaded"

    first = issue_demo_tokens(bundle)
    assert set(first) == {r.value for r in Role}
    for role, secret in first.items():
        principal = bundle.access.authenticate(secret)
        assert principal is not None and principal.role.value == role and principal.actor == DEMO_ACTORS[role]
    # The demo begeleider has a caseload: the two scenario households.
    assert len(bundle.access.caseload(DEMO_ACTORS["begeleider"])) == 2
    second = issue_demo_tokens(bundle)
    assert all(bundle.access.authenticate(secret) is None for secret in first.values())
    assert all(bundle.access.authenticate(secret) is not None for secret in second.values())


def test_the_demo_begeleider_sees_s1_as_it_stood_in_june_2025(database, small_region):
    """The printed example asks for S1's leefgeld view as of DEMO_AS_OF: the book's own time, when its
    toeslagen had just arrived and nothing was long overdue."""
    from budget_ledger.demo import DEMO_AS_OF, demo_household

    bundle = build_services(database)
    cli_main.load_demo(database, bundle)
    s1 = demo_household(bundle)
    assert s1 in bundle.access.caseload(DEMO_ACTORS["begeleider"])
    view = bundle.leefgeld_view.view(s1, DEMO_AS_OF)
    assert view.aanvrager == "Yonas Tesfay" and view.as_of == DEMO_AS_OF
    assert view.last_leefgeld is not None and view.last_leefgeld.on.year == 2025
    assert all(a.business_days_late < 10 for a in view.awaited_income)
    assert view.basisrekening.cents >= 0
