"""The begeleider's leefgeld view (issue 7 item 4), read with the client of S1: what the basisrekening paid
this month and why, the next leefgeld from the rules engine, income that has not arrived (S8), the open
warnings and the trajectory's dates, in figures and in plain Dutch. Nothing is written; on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from registry import BEHEERDER, count_rows, single
from scenario_households import S1_OVERRIDES, income_received
from test_payment_runs import add_s1

from budget_ledger.adapters.db.bootstrap import services as build_services
from budget_ledger.adapters.db.bootstrap import transactions
from budget_ledger.errors import InvalidInputError, NotFoundError
from budget_ledger.ledger.money import Money
from budget_ledger.leefgeld_view import LeefgeldViewService

M = Money.parse
TODAY = date(2025, 4, 2)
TABLES = ("journal_entries", "postings", "payment_runs", "payment_instructions", "warnings", "warning_events")


def clock() -> datetime:
    return datetime(2025, 4, 2, 8, 30, tzinfo=UTC)  # the day after S1's April run


@pytest.fixture
def services(database, profile_catalog):
    """Every service on the test's database, on the clock of 2 April 2025."""
    return build_services(database, clock=clock, catalog=profile_catalog)


@pytest.fixture
def views(database, services) -> LeefgeldViewService:
    return LeefgeldViewService(transactions(database), services.planning, clock)


def run_through_april(services, h: int) -> None:
    """S1's runs of 17 March and 1 April, with the March bijstand (17/31 × 1,281.38) arrived on 1 April."""
    services.payment_runs.start(date(2025, 3, 17), households=[h], actor=BEHEERDER)
    services.ledger.post(income_received(h, date(2025, 4, 1), "bijstand", "702.69"))
    services.payment_runs.start(date(2025, 4, 1), households=[h], actor=BEHEERDER)


def rows(database) -> dict[str, int]:
    return {table: count_rows(database, table) for table in TABLES}


def test_after_the_run_of_1_april_the_view_says_what_was_paid_why_and_what_comes_next(services, database, views):
    h = add_s1(services)
    run_through_april(services, h)
    before = rows(database)

    view = views.view(h, as_of=date(2025, 4, 1))

    assert (view.aanvrager, view.gemeente, view.as_of, view.month) == (
        "Yonas Tesfay", "roermond", date(2025, 4, 1), date(2025, 4, 1))
    assert (view.last_leefgeld.on, view.last_leefgeld.amount) == (date(2025, 4, 1), M("250.00"))
    # 1 May 2025 is a TARGET2 holiday: the May leefgeld, like the rent, goes on Friday 2 May.
    nxt = view.next_leefgeld
    assert (nxt.on, nxt.amount, nxt.planned, nxt.overdue) == (date(2025, 5, 2), M("250.00"), M("250.00"), False)
    paid = [(line.on, line.kind, line.amount, line.counterparty) for line in view.paid_this_month]
    assert paid == [(date(2025, 4, 1), "huur", M("650.00"), "Woonstichting Roermond"),
                    (date(2025, 4, 1), "zorgverzekering", M("150.00"), "Zorgverzekeraar"),
                    (date(2025, 4, 1), "energie", M("180.00"), "Energie B.V."),
                    (date(2025, 4, 1), "leefgeld", M("250.00"), "Yonas Tesfay")]
    assert view.paid_this_month[0].reason == "Huur april 2025 (Woonstichting Roermond), ingehouden volgens profiel roermond"
    assert view.paid_this_month_total == M("1230.00")
    # The April shortfall (702.69 − 1,230.00) is bridged from the krediet, which keeps 2,770.43 (S1).
    received = {}
    for line in view.received_this_month:
        received[line.kind] = received.get(line.kind, Money(0)) + line.amount
    assert received == {"bijstand": M("702.69"), "overbrugging uit het inrichtingskrediet": M("527.31")}
    assert (view.basisrekening, view.leefgeldrekening, view.krediet_unspent) == (M("0.00"), M("0.00"), M("2770.43"))
    assert view.leefgeld_account_ending is None
    awaited = [(a.source, a.due_on, a.expected, a.late) for a in view.awaited_income]
    assert awaited == [("bijstand", date(2025, 5, 2), M("1281.38"), False),
                       ("zorgtoeslag", date(2025, 5, 20), M("393.00"), False)]
    t = view.trajectory
    assert (t.status, t.start_date, t.minimum_last_day, t.last_day) == (
        "actief", date(2025, 3, 15), date(2025, 9, 14), date(2025, 9, 14))
    assert (t.next_evaluation.kind, t.next_evaluation.due_from, t.next_evaluation.due_on) == (
        "tussenevaluatie", date(2025, 5, 15), date(2025, 6, 15))
    assert view.open_warnings == () and view.forecast_problem is None

    said = view.sentences
    for sentence in (
        "Op 01-04-2025 is € 250,00 leefgeld betaald.",
        "Het volgende leefgeld is € 250,00, op 02-05-2025.",
        "In april 2025 is € 1.230,00 uit de basisrekening betaald:",
        "01-04-2025: € 650,00 huur aan Woonstichting Roermond. Reden: Huur april 2025 (Woonstichting Roermond), "
        "ingehouden volgens profiel roermond.",
        "01-04-2025: € 180,00 energie aan Energie B.V. Reden: Energie april 2025 (Energie B.V.), ingehouden volgens "
        "profiel roermond.",
        "Nog niet binnen: zorgtoeslag van € 393,00, verwacht op 20-05-2025.",
        "Van het inrichtingskrediet is nog € 2.770,43 over.",
        "De ontzorging loopt sinds 15-03-2025; de minimale periode loopt tot en met 14-09-2025.",
        "De volgende evaluatie is de tussenevaluatie, tussen 15-05-2025 en 15-06-2025.",
        "Er staan geen waarschuwingen open.",
    ):
        assert sentence in said, sentence
    assert rows(database) == before  # a view writes nothing


def test_without_as_of_the_view_is_of_today_by_the_services_clock(services, views):
    h = add_s1(services)
    run_through_april(services, h)
    view = views.view(h)
    assert view.as_of == TODAY and view.next_leefgeld.on == date(2025, 5, 2)
    assert [line.kind for line in view.paid_this_month] == ["huur", "zorgverzekering", "energie", "leefgeld"]


def test_a_view_of_an_earlier_day_shows_the_book_as_it_stood_then(services, views):
    h = add_s1(services)
    run_through_april(services, h)
    view = views.view(h, as_of=date(2025, 3, 16))
    assert view.last_leefgeld is None and view.paid_this_month == ()
    assert (view.next_leefgeld.on, view.next_leefgeld.amount) == (date(2025, 3, 17), M("120.00"))  # March pro rata
    assert view.krediet_unspent == M("3500.00")
    assert "Er is nog geen leefgeld betaald." in view.sentences
    assert "In maart 2025 is nog niets uit de basisrekening betaald." in view.sentences


def test_s8_the_zorgtoeslag_not_arrived_on_21_may_is_late_until_the_client_transfers_it(services, views):
    h = add_s1(services)
    run_through_april(services, h)
    services.ledger.post(income_received(h, date(2025, 5, 2), "bijstand", "1281.38"))
    services.payment_runs.start(date(2025, 5, 2), households=[h], actor=BEHEERDER)
    services.warnings.scan(date(2025, 5, 21), household_ids=[h])

    late = views.view(h, as_of=date(2025, 5, 21))
    [zorgtoeslag] = [a for a in late.awaited_income if a.source == "zorgtoeslag"]
    assert (zorgtoeslag.due_on, zorgtoeslag.missing, zorgtoeslag.late, zorgtoeslag.business_days_late) == (
        date(2025, 5, 20), M("393.00"), True, 1)
    assert "Te laat: zorgtoeslag van € 393,00, verwacht op 20-05-2025, is niet ontvangen (€ 393,00 ontbreekt)." \
        in late.sentences
    assert {w.type for w in late.open_warnings} >= {"inkomen-te-laat"}
    assert (late.last_leefgeld.on, late.next_leefgeld.on) == (date(2025, 5, 2), date(2025, 6, 2))

    services.ledger.post(income_received(h, date(2025, 5, 22), "zorgtoeslag", "393.00"))  # transferred by the client
    services.warnings.scan(date(2025, 5, 22), household_ids=[h])
    arrived = views.view(h, as_of=date(2025, 5, 22))
    [zorgtoeslag] = [a for a in arrived.awaited_income if a.source == "zorgtoeslag"]
    assert (zorgtoeslag.due_on, zorgtoeslag.expected, zorgtoeslag.late) == (date(2025, 6, 20), M("131.00"), False)
    assert "inkomen-te-laat" not in {w.type for w in arrived.open_warnings}
    assert [(line.kind, line.amount) for line in arrived.received_this_month][-1] == ("zorgtoeslag", M("393.00"))


def test_a_leefgeld_day_no_run_booked_is_shown_as_still_to_be_paid(services, views):
    h = add_s1(services)
    run_through_april(services, h)
    view = views.view(h, as_of=date(2025, 5, 6))  # no run since 1 April
    assert (view.next_leefgeld.on, view.next_leefgeld.overdue) == (date(2025, 5, 2), True)
    assert ("Het leefgeld van 02-05-2025 (€ 250,00) is nog niet betaald; het gaat mee met de eerstvolgende "
            "betaalrun.") in view.sentences


def test_a_rejected_leefgeld_payment_is_not_counted_as_paid_and_is_still_to_be_paid(services, views):
    h = add_s1(services)
    services.payment_runs.start(date(2025, 3, 17), households=[h], actor=BEHEERDER)
    services.ledger.post(income_received(h, date(2025, 4, 1), "bijstand", "702.69"))
    run = services.payment_runs.start(date(2025, 4, 1), households=[h], actor=BEHEERDER)
    [leefgeld] = [i for i in services.payment_runs.instructions(run.run_id) if i.category == "leefgeld"]
    services.payment_runs.reject_instruction(leefgeld.id, "beheerder.bram", "IBAN van de klant onbekend")

    view = views.view(h)  # 2 April: the rejection was reversed today
    assert (view.last_leefgeld.on, view.last_leefgeld.amount) == (date(2025, 3, 17), M("120.00"))
    assert (view.next_leefgeld.on, view.next_leefgeld.amount, view.next_leefgeld.overdue) == (
        date(2025, 4, 1), M("250.00"), True)
    assert [line.kind for line in view.paid_this_month] == ["huur", "zorgverzekering", "energie"]
    assert view.basisrekening == M("250.00")  # the leefgeld came back onto the basisrekening
    assert ("Het leefgeld van 01-04-2025 (€ 250,00) is nog niet betaald; het gaat mee met de eerstvolgende "
            "betaalrun.") in view.sentences


def test_s12_weekly_leefgeld_comes_every_monday(services, views):
    h = add_s1(services)
    services.profiles.assign(h, {"valid_from": date(2025, 3, 15), "profile": None, "reason": "S12: wekelijks",
                                 "overrides": {**S1_OVERRIDES, "leefgeld": {"mode": "fixed", "amount": "60.00",
                                                                            "frequency": "weekly", "weekday": 1}}},
                             BEHEERDER)
    services.payment_runs.start(date(2025, 3, 17), households=[h], actor=BEHEERDER)
    view = views.view(h, as_of=date(2025, 3, 18))
    assert (view.last_leefgeld.on, view.last_leefgeld.amount) == (date(2025, 3, 17), M("60.00"))
    assert (view.next_leefgeld.on, view.next_leefgeld.amount) == (date(2025, 3, 24), M("60.00"))
    assert "Het volgende leefgeld is € 60,00, op 24-03-2025." in view.sentences


def test_a_household_without_a_trajectory_still_has_a_view_without_a_next_leefgeld(services, views):
    add_s1(services)  # the gemeente and the organisation's accounts
    h = single(services).household.id
    view = views.view(h, as_of=date(2025, 4, 1))
    assert view.next_leefgeld is None and view.trajectory is None and view.forecast_problem
    assert view.last_leefgeld is None and view.paid_this_month == () and view.awaited_income == ()
    assert "Er loopt geen ontzorgtraject, dus er is geen leefgeld gepland." in view.sentences
    assert "Er is geen ontzorgtraject." in view.sentences


def test_an_unknown_household_or_a_bad_day_is_refused_naming_the_field(services, views):
    h = add_s1(services)
    with pytest.raises(NotFoundError) as missing:
        views.view(h + 100)
    assert missing.value.field == "household_id"
    for bad in ("1 april", "2025-13-01", 20250401, date(1899, 12, 31), date(9999, 12, 31)):
        with pytest.raises(InvalidInputError) as refused:
            views.view(h, as_of=bad)
        assert refused.value.field == "as_of", bad
    with pytest.raises(InvalidInputError) as refused:
        views.view("1")
    assert refused.value.field == "household_id"


def test_the_caseload_lists_a_begeleiders_households_with_their_dates_and_open_warnings(services, views):
    mine = add_s1(services)
    other = add_s1(services, "Saba Tesfay")
    services.households.assign_begeleider(mine, "begeleider.bo", BEHEERDER)
    services.households.assign_begeleider(other, "begeleider.cas", BEHEERDER)
    services.warnings.scan(date(2025, 5, 21))  # the tussenevaluatie is due, the zorgtoeslag late: per household

    [row] = views.caseload("begeleider.bo")
    assert (row.household_id, row.aanvrager, row.gemeente, row.gemeente_name) == (
        mine, "Yonas Tesfay", "roermond", "Roermond")
    assert (row.trajectory.start_date, row.trajectory.minimum_last_day, row.trajectory.next_evaluation.due_on) == (
        date(2025, 3, 15), date(2025, 9, 14), date(2025, 6, 15))
    assert row.open_warnings == len(services.warnings.list(household_id=mine)) >= 2
    assert [r.household_id for r in views.caseload(" begeleider.cas ")] == [other]
    assert views.caseload("begeleider.niemand") == []
    with pytest.raises(InvalidInputError) as refused:
        views.caseload("  ")
    assert refused.value.field == "begeleider"
