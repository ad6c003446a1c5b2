"""Payment runs on a real book, on SQLite and PostgreSQL: S1's first run pays huur, zorg and leefgeld once,
however often it runs, whoever runs it at the same time, and wherever a process dies in the middle."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date

import pytest
from click.testing import CliRunner
from registry import BEHEERDER, count_rows, gemeente
from scenario_households import S1_OVERRIDES, add_creditor, bank_in, income_received, s3_couple
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from budget_ledger.adapters.cli.main import cli
from budget_ledger.chart import IN_TRANSIT, household_code, organisation_accounts
from budget_ledger.errors import ConflictError, InvalidInputError
from budget_ledger.ledger.money import Money
from budget_ledger.planning import base_key
from budget_ledger.rules.plan import KEY_PREFIX

M = Money.parse
CHECKER = "beheerder.bram"
RUN_DAY = date(2025, 3, 17)
TABLES = ("payment_runs", "payment_instructions", "journal_entries", "postings")


def add_s1(services, name: str = "Yonas Tesfay") -> int:
    """An S1 household (domain.md S1) in Roermond, up to the krediet being granted; nothing planned yet."""
    services.ledger.open_accounts(organisation_accounts())
    if not any(g.code == "roermond" for g in services.gemeenten.list()):
        gemeente(services, "roermond", rule_profile="roermond", repayment_iban="NL39RABO0300065264",
                 repayment_account_holder_name="Gemeente Roermond")
    h = services.households.create({
        "gemeente": "roermond", "permit_type": "asiel", "has_bijstand": True, "bijstand_start": date(2025, 3, 15),
        "housing_date": date(2025, 3, 15), "preferred_language": "ti",
        "members": [{"name": name, "date_of_birth": date(1998, 6, 1), "role": "aanvrager"}]}, BEHEERDER).household.id
    services.profiles.assign(h, {"valid_from": date(2025, 3, 15), "profile": None, "overrides": S1_OVERRIDES,
                                 "reason": "S1: vast leefgeld, maart naar rato €120"}, BEHEERDER)
    add_creditor(services, h, "Woonstichting Roermond", "NL91ABNA0417164300", "huur", "650.00", date(2025, 3, 15))
    add_creditor(services, h, "Zorgverzekeraar", "NL20INGB0001234567", "zorgverzekering", "150.00", date(2025, 3, 15))
    add_creditor(services, h, "Energie B.V.", "NL64ABNA0417164301", "energie", "180.00", date(2025, 4, 1))
    services.income.add(h, {"source": "bijstand", "amount": "1281.38", "entitlement_from": date(2025, 3, 15)}, BEHEERDER)
    services.income.add(h, {"source": "zorgtoeslag", "amount": "131.00", "entitlement_from": date(2025, 4, 1),
                            "first_expected_on": date(2025, 5, 20)}, BEHEERDER)
    trajectory = services.trajectories.start(h, {}, BEHEERDER)
    services.trajectories.activate(trajectory.id, BEHEERDER)
    services.ledger.post(bank_in(h, "krediet", date(2025, 3, 15), ("reservering", "inrichting"),
                                 ("krediet", "inrichting"), "3500.00", "Inrichtingskrediet verstrekt (leenbijstand)"))
    return h


@pytest.fixture
def s1(services) -> int:
    return add_s1(services)


def counts(database) -> dict[str, int]:
    return {table: count_rows(database, table) for table in TABLES}


def assert_paid_exactly_once(database, services) -> None:
    """No obligation has two standing instructions or two standing ledger entries; every planned payment that
    left for the bank has exactly one instruction and every instruction its entry; the book balances."""
    with database.engine.connect() as conn:
        doubles = conn.execute(text(
            "SELECT household_id, obligation, due_date FROM payment_instructions WHERE status <> 'rejected' "
            "GROUP BY household_id, obligation, due_date HAVING count(*) > 1")).all()
        entries = conn.execute(text(
            "SELECT e.id, e.idempotency_key, e.reverses_entry_id FROM journal_entries e")).all()
        out_entries = {row.id for row in conn.execute(text(
            "SELECT e.id FROM journal_entries e JOIN postings p ON p.entry_id = e.id JOIN accounts a "
            "ON a.id = p.account_id WHERE a.code = :onderweg AND p.amount_cents < 0 AND e.idempotency_key LIKE 'plan:%'"),
            {"onderweg": IN_TRANSIT})}
        instructed = Counter(row.entry_id for row in conn.execute(text("SELECT entry_id FROM payment_instructions")))
    assert doubles == []
    reversed_ids = {e.reverses_entry_id for e in entries if e.reverses_entry_id}
    standing = Counter(base_key(e.idempotency_key) for e in entries
                       if e.idempotency_key.startswith(KEY_PREFIX + ":") and e.id not in reversed_ids)
    assert [k for k, n in standing.items() if n > 1] == []
    assert set(instructed) == out_entries and max(instructed.values(), default=1) == 1
    assert services.ledger.trial_balance().is_balanced
    assert services.ledger.balance_mismatches() == []


def paid(database) -> list[tuple]:
    with database.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(text(
            "SELECT household_id, obligation, due_date, amount_cents, payee_kind, iban FROM payment_instructions "
            "WHERE status <> 'rejected'")))


# -- S1's first run -------------------------------------------------------------------------------------


def test_s1_the_first_run_instructs_huur_zorg_and_leefgeld_with_the_creditors_details(services, database, s1):
    report = services.payment_runs.start(RUN_DAY, gemeente="roermond", actor=BEHEERDER)
    assert report.processed == (s1,) and report.failed == () and report.instructions_created == 3
    by_category = {i.category: i for i in services.payment_runs.instructions(report.run_id)}
    huur, zorg, leefgeld = by_category["huur"], by_category["zorgverzekering"], by_category["leefgeld"]
    assert (huur.amount, huur.iban, huur.payee_name) == (M("356.45"), "NL91ABNA0417164300", "Woonstichting Roermond")
    assert (huur.reference_kind, huur.reference) == ("vrij", "huur Woonstichting Roermond")
    assert (zorg.amount, zorg.iban, zorg.payee_kind.value) == (M("82.26"), "NL20INGB0001234567", "creditor")
    assert (leefgeld.amount, leefgeld.payee_kind.value, leefgeld.iban) == (M("120.00"), "client", None)
    assert leefgeld.payee_name == "Yonas Tesfay"
    assert huur.entry_key == f"plan:{s1}:crediteur-1:2025-03-17" and huur.status.value == "planned"
    assert all(len(i.end_to_end_id) <= 35 for i in (huur, zorg, leefgeld))
    assert report.per_category == {"huur": M("356.45"), "zorgverzekering": M("82.26"), "leefgeld": M("120.00")}
    assert any("geen IBAN van de klant" in w for _, w in report.warnings)
    # The money is on its way (credited to onderweg until the statement confirms it), for exactly these three.
    assert services.ledger.balance(IN_TRANSIT) == -M("558.71")
    stored = services.payment_runs.get(report.run_id)
    assert stored.report["instructions_created"] == 3 and stored.finished_at is not None
    assert_paid_exactly_once(database, services)


def test_running_the_same_day_again_creates_nothing(services, database, s1):
    services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    before = counts(database)
    again = services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    assert again.instructions_created == 0 and again.processed == (s1,)
    after = counts(database)
    assert after["payment_instructions"] == before["payment_instructions"]
    assert after["journal_entries"] == before["journal_entries"]
    assert_paid_exactly_once(database, services)


def test_a_dry_run_reports_the_same_and_writes_nothing(services, database, s1):
    before, balances = counts(database), services.ledger.balances()
    dry = services.payment_runs.start(RUN_DAY, actor=BEHEERDER, dry_run=True)
    assert dry.run_id is None and dry.instructions_created == 3 and dry.instruction_ids == ()
    assert counts(database) == before and services.ledger.balances() == balances
    real = services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    assert [(i.category, i.amount) for i in real.instructions] == [(i.category, i.amount) for i in dry.instructions]


def test_four_eyes_the_starter_cannot_approve_another_user_can(services, database, s1):
    run = services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    with pytest.raises(ConflictError) as refused:
        services.payment_runs.approve(run.run_id, BEHEERDER)
    assert refused.value.field == "actor"
    assert services.payment_runs.get(run.run_id).status.value == "planned"
    approved = services.payment_runs.approve(run.run_id, CHECKER)
    assert (approved.status.value, approved.approved_by) == ("approved", CHECKER)
    assert {i.status.value for i in services.payment_runs.instructions(run.run_id)} == {"approved"}
    with pytest.raises(ConflictError):
        services.payment_runs.approve(run.run_id, "beheerder.carla")
    # The database holds the line too.
    with pytest.raises(IntegrityError), database.engine.begin() as conn:
        conn.execute(text("UPDATE payment_runs SET approved_by = started_by WHERE id = :id"), {"id": run.run_id})
    exported = services.payment_runs.mark_exported(run.run_id, "BL-20250317-1", CHECKER)
    assert exported.status.value == "exported" and exported.message_id == "BL-20250317-1"
    statuses = {i.category: i.status.value for i in services.payment_runs.instructions(run.run_id)}
    assert statuses == {"huur": "exported", "zorgverzekering": "exported", "leefgeld": "approved"}  # no IBAN


def test_four_eyes_can_be_turned_off_for_a_one_person_organisation(database_maker, profile_catalog):
    from budget_ledger.adapters.db.bootstrap import services as build

    database = database_maker.make(four_eyes=False)
    services = build(database, catalog=profile_catalog)
    add_s1(services)
    run = services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    assert services.payment_runs.approve(run.run_id, BEHEERDER).approved_by == BEHEERDER


def test_a_rejected_instruction_is_reversed_and_a_later_run_pays_it_again(services, database, s1):
    run = services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    huur = next(i for i in services.payment_runs.instructions(run.run_id) if i.category == "huur")
    basis = services.ledger.balance(household_code(s1, "basis"))
    rejected = services.payment_runs.reject_instruction(huur.id, CHECKER, "IBAN hoort niet bij de verhuurder",
                                                        on=RUN_DAY)
    assert rejected.status.value == "rejected" and rejected.reversal_entry_id is not None
    assert services.ledger.get_entry(rejected.reversal_entry_id).reverses_entry_id == huur.entry_id
    assert services.ledger.balance(household_code(s1, "basis")) == basis + M("356.45")
    with pytest.raises(ConflictError):
        services.payment_runs.reject_instruction(huur.id, CHECKER, "nogmaals")

    later = services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    [again] = later.instructions
    assert (again.category, again.amount, again.due_date) == ("huur", M("356.45"), huur.due_date)
    assert again.entry_key == huur.entry_key + "#2" and again.end_to_end_id != huur.end_to_end_id
    assert services.payment_runs.start(RUN_DAY, actor=BEHEERDER).instructions_created == 0
    rows = [i for i in services.payment_runs.instructions_of(s1) if i.category == "huur"]
    assert [i.status.value for i in rows] == ["rejected", "planned"]
    assert_paid_exactly_once(database, services)


def test_cancelling_a_run_rejects_all_its_instructions(services, database, s1):
    run = services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    cancelled = services.payment_runs.cancel(run.run_id, CHECKER, "verkeerde rundatum")
    assert cancelled.status.value == "cancelled"
    assert {i.status.value for i in services.payment_runs.instructions(run.run_id)} == {"rejected"}
    assert services.ledger.balance(IN_TRANSIT) == Money(0)
    assert services.payment_runs.start(RUN_DAY, actor=BEHEERDER).instructions_created == 3
    assert_paid_exactly_once(database, services)


def test_a_household_whose_planning_fails_does_not_stop_the_others(services, database, monkeypatch):
    first, broken, last = add_s1(services), add_s1(services, "Saba Tesfay"), add_s1(services, "Amanuel Kidane")
    real = services.planning._plan_for

    def plan_for(facts, through, only=None):
        if facts.household.id == broken:
            raise RuntimeError("profiel onleesbaar")
        return real(facts, through, only)

    monkeypatch.setattr(services.planning, "_plan_for", plan_for)
    report = services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    assert report.processed == (first, last) and report.instructions_created == 6
    assert [(f.household_id, f.message) for f in report.failed] == [(broken, "RuntimeError: profiel onleesbaar")]
    assert services.payment_runs.get(report.run_id).report["failed"][0]["household_id"] == broken
    assert services.payment_runs.instructions_of(broken) == []
    assert_paid_exactly_once(database, services)


def assert_only_the_broken_one_failed(services, database, households, message):
    """A run over three S1 households whose middle one cannot be booked: the other two are paid (three
    instructions each), the middle one fails with `message` and has nothing booked or instructed."""
    first, broken, last = households
    report = services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    assert report.processed == (first, last) and report.instructions_created == 6
    assert [(f.household_id, f.message) for f in report.failed] == [(broken, message)]
    assert services.payment_runs.instructions_of(broken) == []
    with services.ledger.extract(household_id=broken) as book:
        assert [e.idempotency_key for e in book.entries if e.source.value == "batch_run"] == []
    assert_paid_exactly_once(database, services)


def test_a_household_whose_payee_is_unknown_fails_alone(services, database, monkeypatch):
    """A payment out needs a payee; when one household's cannot be made (here: its creditor is unknown),
    nothing is booked for that household and the others are paid."""
    first, broken, last = add_s1(services), add_s1(services, "Saba Tesfay"), add_s1(services, "Amanuel Kidane")
    real = services.payment_runs._instruction

    def instruction(run_id, facts, movement, *rest):
        if facts.household.id == broken and movement.creditor_id is not None:
            raise ConflictError("crediteur onbekend", field="creditor_id")
        return real(run_id, facts, movement, *rest)

    monkeypatch.setattr(services.payment_runs, "_instruction", instruction)
    assert_only_the_broken_one_failed(services, database, (first, broken, last), "crediteur onbekend")


def test_when_a_chunk_cannot_be_booked_together_its_households_are_booked_one_by_one(services, database, monkeypatch):
    """The bulk path books a chunk of households in one transaction; if writing it fails (here: the ledger
    refuses one household's entries), the chunk is rolled back and booked household by household, so only
    the household at fault fails and the others are paid."""
    from budget_ledger import payment_runs

    first, broken, last = add_s1(services), add_s1(services, "Saba Tesfay"), add_s1(services, "Amanuel Kidane")
    real = payment_runs.book_requests

    def book_requests(uow, requests, accounts):
        if any(r.household_id == broken for r in requests):
            raise ConflictError("grootboek weigert de boeking", field="postings")
        return real(uow, requests, accounts)

    monkeypatch.setattr(payment_runs, "book_requests", book_requests)
    assert_only_the_broken_one_failed(services, database, (first, broken, last), "grootboek weigert de boeking")


def test_households_without_a_running_trajectory_are_skipped_with_a_reason(services, s1):
    other = services.households.create({
        "gemeente": "roermond", "permit_type": "asiel", "has_bijstand": True, "bijstand_start": date(2025, 3, 15),
        "members": [{"name": "Nog Niet", "date_of_birth": date(1990, 1, 1), "role": "aanvrager"}]},
        BEHEERDER).household.id
    report = services.payment_runs.start(RUN_DAY, households=[s1, other, 999], actor=BEHEERDER)
    assert report.processed == (s1,)
    assert {(s.household_id, s.reason) for s in report.skipped} == {
        (other, "geen lopend ontzorgtraject"), (999, "huishouden bestaat niet")}


def test_the_cli_runs_dry_then_for_real_and_approves_with_a_second_user(services, database, s1):
    url = database.settings.database_url

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["--database-url", url, *args])

    dry = invoke("run", "--date", "2025-03-17", "--dry-run", "--as", BEHEERDER)
    assert dry.exit_code == 0, dry.output
    assert "Proefrun" in dry.stdout and "3 betaalopdracht(en)" in dry.stdout
    assert count_rows(database, "payment_instructions") == 0
    real = invoke("run", "--date", "2025-03-17", "--gemeente", "roermond", "--as", BEHEERDER)
    assert real.exit_code == 0, real.output
    assert "Betaalrun" in real.stderr and "1/1" in real.stderr  # the progress bar, on standard error
    run_id = services.payment_runs.runs()[0].id
    refused = invoke("approve", str(run_id), "--as", BEHEERDER)
    assert refused.exit_code == 1 and "(actor)" in refused.output
    approved = invoke("approve", str(run_id), "--as", CHECKER)
    assert approved.exit_code == 0 and "goedgekeurd" in approved.stdout


def test_an_approved_run_is_exported_as_a_valid_pain001_and_only_once(services, database, s1, tmp_path):
    from lxml import etree

    from budget_ledger.adapters.bank.pain001 import validate_pain001

    url = database.settings.database_url

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["--database-url", url, *args])

    assert invoke("run", "--date", "2025-03-17", "--as", BEHEERDER).exit_code == 0
    run_id = services.payment_runs.runs()[0].id
    unapproved = invoke("export-payments", str(run_id), "-o", str(tmp_path / "x.xml"), "--as", BEHEERDER)
    assert unapproved.exit_code == 1 and not (tmp_path / "x.xml").exists()
    assert invoke("approve", str(run_id), "--as", CHECKER).exit_code == 0
    target = tmp_path / "run.xml"
    result = invoke("export-payments", str(run_id), "--format", "pain.001.001.09", "-o", str(target), "--as", CHECKER)
    assert result.exit_code == 0, result.output
    xml = target.read_bytes()
    validate_pain001(xml, "pain.001.001.09")
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    root = etree.fromstring(xml)
    # Huur 356.45 and zorg 82.26 to creditors; the leefgeld has no client IBAN yet and stays out of the file.
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=ns) == "2"
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=ns) == "438.71"
    # These creditors carry free-text references (the kenmerk and RF forms are in tests/test_pain001.py).
    assert sorted(t.text for t in root.iterfind(".//p:RmtInf/p:Ustrd", namespaces=ns)) == [
        "huur Woonstichting Roermond", "zorgverzekering Zorgverzekeraar"]
    ids = [t.text for t in root.iterfind(".//p:EndToEndId", namespaces=ns)]
    assert sorted(ids) == sorted(i.end_to_end_id for i in services.payment_runs.instructions(run_id, "exported"))
    again = invoke("export-payments", str(run_id), "-o", str(tmp_path / "again.xml"), "--as", CHECKER)
    assert again.exit_code == 1 and not (tmp_path / "again.xml").exists()


def client_paid(report) -> list[tuple[date, str]]:
    return [(f.on, f.message.split(":", 1)[0]) for f in report.findings if f.kind == "crediteur-hoort-bij-klant"]


def test_each_run_says_once_per_creditor_that_the_client_pays_it_not_again_for_every_earlier_month(
        services, database):
    """S3: Westfriesland withholds huur and zorg; energie is the couple's own. Each run plans from 1 May, so
    by July's run the engine finds May's, June's and July's energie bills again; the report names the
    creditor once, with its latest bill (the earlier ones were in the earlier runs' reports)."""
    h = s3_couple(services)
    reports = [services.payment_runs.start(day, gemeente="hoorn", actor=BEHEERDER)
               for day in (date(2025, 5, 2), date(2025, 6, 2), date(2025, 7, 1))]

    assert [r.failed for r in reports] == [(), (), ()]
    assert [client_paid(r) for r in reports] == [
        [(date(2025, 5, 2), "Energie mei 2025 (Energie Noord)")],  # 1 May: TARGET2 closed
        [(date(2025, 6, 2), "Energie juni 2025 (Energie Noord)")],
        [(date(2025, 7, 1), "Energie juli 2025 (Energie Noord)")],
    ]
    assert {f.household_id for r in reports for f in r.findings} == {h}
    # A shortfall is not folded: each unpaid bill stays in the report while it is unpaid.
    july = reports[-1]
    assert len([f for f in july.shortfalls if "Woonstichting Hoorn" in f.message]) >= 1
    stored = services.payment_runs.get(july.run_id).report
    assert [w["on"] for w in stored["warnings"] if w.get("kind") == "crediteur-hoort-bij-klant"] == ["2025-07-01"]


def test_a_run_caught_up_after_months_down_names_the_creditor_once_with_its_latest_bill(services, database):
    s3_couple(services)
    report = services.payment_runs.start(date(2025, 7, 1), gemeente="hoorn", actor=BEHEERDER)
    assert client_paid(report) == [(date(2025, 7, 1), "Energie juli 2025 (Energie Noord)")]


def test_the_cli_prints_the_first_notes_with_how_many_there_are_and_run_notes_prints_them_all(
        services, database, monkeypatch):
    from budget_ledger import payment_runs

    monkeypatch.setattr(payment_runs, "NOTES_SHOWN", 2)
    h = s3_couple(services)
    url = database.settings.database_url

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["--database-url", url, *args])

    ran = invoke("run", "--date", "2025-06-02", "--gemeente", "hoorn", "--as", BEHEERDER)
    assert ran.exit_code == 0, ran.output
    run_id = services.payment_runs.runs()[0].id
    assert ran.stdout.count("  ! huishouden") == 4  # two shortfalls and both warnings
    assert f"7 tekorten in totaal, 2 getoond; alle: budget-ledger run-notes {run_id}" in ran.stdout
    every = invoke("run-notes", str(run_id))
    assert every.exit_code == 0 and every.stdout.splitlines()[-1] == "9 melding(en)"
    energie = invoke("run-notes", str(run_id), "--kind", "crediteur-hoort-bij-klant", "--household", str(h))
    assert energie.stdout.splitlines()[0].startswith(f"huishouden {h} 2025-06-02 crediteur-hoort-bij-klant")
    unknown = invoke("run-notes", str(run_id + 1))
    assert unknown.exit_code == 1 and "(run_id)" in unknown.output


# -- payee details: the client's own leefgeld account, creditors' addresses -------------------------------

CLIENT_IBAN = "NL44RABO0123456789"
OLD_ADDRESS = {"street_name": "Wilhelminasingel", "building_number": "12", "postcode": "6041 CH", "town": "Roermond"}
NEW_ADDRESS = {"street_name": "Markt", "building_number": "1a", "postcode": "6041 EM", "town": "Roermond"}


def run_file(services, run_id: int, version: str, status: str = "approved"):
    """The run's instructions with an IBAN as a pain.001 file (validated against the XSD before it is returned)."""
    from datetime import UTC, datetime

    from lxml import etree

    from budget_ledger.adapters.bank.pain001 import render_pain001
    from budget_ledger.adapters.bank.payment_file import batch_for

    chosen = [i for i in services.payment_runs.instructions(run_id, status) if i.iban]
    batch = batch_for(run_id, chosen, organisation="Kredietbank Limburg", debtor_iban="NL39RABO0300065264",
                      created_at=datetime(2025, 3, 17, 7, tzinfo=UTC))
    return etree.fromstring(render_pain001(batch, version)), {"p": f"urn:iso:std:iso:20022:tech:xsd:{version}"}


def postal_address(root, ns, end_to_end_id: str) -> list[tuple[str, str]]:
    return [(child.tag.split("}")[1], child.text) for child in root.xpath(
        f"//p:CdtTrfTxInf[p:PmtId/p:EndToEndId='{end_to_end_id}']/p:Cdtr/p:PstlAdr/*", namespaces=ns)]


def test_leefgeld_goes_to_the_clients_own_account_once_recorded_and_is_in_the_bank_file(services, database, s1,
                                                                                         tmp_path):
    from lxml import etree

    from budget_ledger.adapters.bank.pain001 import PAIN_VERSIONS, validate_pain001

    services.households.set_leefgeld_account(s1, {"iban": "nl44 rabo 0123 4567 89", "account_holder_name": "Y. Tesfay"},
                                             BEHEERDER)
    report = services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    leefgeld = next(i for i in services.payment_runs.instructions(report.run_id) if i.category == "leefgeld")
    assert (leefgeld.amount, leefgeld.payee_kind.value) == (M("120.00"), "client")
    assert (leefgeld.iban, leefgeld.bic, leefgeld.payee_name) == (CLIENT_IBAN, "RABONL2U", "Y. Tesfay")
    assert leefgeld.payee_address is None
    assert not any("geen IBAN van de klant" in w for _, w in report.warnings)
    services.payment_runs.approve(report.run_id, CHECKER)
    for version in PAIN_VERSIONS:
        root, ns = run_file(services, report.run_id, version)
        assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=ns) == "3"
        assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=ns) == "558.71"

    # Through the CLI, as a budgetbeheerder exports it: the leefgeld is in the file and marked exported.
    target = tmp_path / "run.xml"
    result = CliRunner().invoke(cli, ["--database-url", database.settings.database_url, "export-payments",
                                      str(report.run_id), "-o", str(target), "--as", CHECKER])
    assert result.exit_code == 0, result.output
    xml = target.read_bytes()
    validate_pain001(xml, "pain.001.001.09")
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    transfer = etree.fromstring(xml).xpath(f"//p:CdtTrfTxInf[p:PmtId/p:EndToEndId='{leefgeld.end_to_end_id}']",
                                           namespaces=ns)[0]
    assert transfer.findtext("p:Cdtr/p:Nm", namespaces=ns) == "Y. Tesfay"
    assert transfer.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=ns) == CLIENT_IBAN
    assert transfer.findtext("p:Amt/p:InstdAmt", namespaces=ns) == "120.00"
    statuses = {i.category: i.status.value for i in services.payment_runs.instructions(report.run_id)}
    assert statuses == {"huur": "exported", "zorgverzekering": "exported", "leefgeld": "exported"}


def test_an_instruction_keeps_the_creditors_address_of_its_run_and_the_next_run_takes_the_new_one(
        services, database, s1):
    from budget_ledger.adapters.bank.pain001 import PAIN_VERSIONS
    from budget_ledger.addresses import PostalAddress

    huur = next(c for c in services.creditors.of_household(s1) if c.category.value == "huur")
    services.creditors.set_address(huur.id, OLD_ADDRESS, BEHEERDER)
    march = services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    services.creditors.set_address(huur.id, NEW_ADDRESS, CHECKER)  # the woningcorporatie moved after the run
    services.payment_runs.approve(march.run_id, CHECKER)

    made = {i.category: i for i in services.payment_runs.instructions(march.run_id)}
    old = PostalAddress(street_name="Wilhelminasingel", building_number="12", postcode="6041 CH", town="Roermond",
                        country="NL")
    assert made["huur"].payee_address == old
    assert made["zorgverzekering"].payee_address is None  # no address recorded: none in the file either
    for version in PAIN_VERSIONS:
        root, ns = run_file(services, march.run_id, version)
        assert postal_address(root, ns, made["huur"].end_to_end_id) == [
            ("StrtNm", "Wilhelminasingel"), ("BldgNb", "12"), ("PstCd", "6041 CH"), ("TwnNm", "Roermond"),
            ("Ctry", "NL")]
        assert postal_address(root, ns, made["zorgverzekering"].end_to_end_id) == []

    _receive(services, [s1], [("bijstand", "702.69")], date(2025, 4, 1))
    april = services.payment_runs.start(date(2025, 4, 1), actor=BEHEERDER)
    april_huur = next(i for i in services.payment_runs.instructions(april.run_id) if i.category == "huur")
    assert april_huur.payee_address == PostalAddress(street_name="Markt", building_number="1a", postcode="6041 EM",
                                                     town="Roermond", country="NL")
    # March's instruction is as it was stored: its address is not read again from the creditor.
    assert made["huur"] == next(i for i in services.payment_runs.instructions(march.run_id) if i.category == "huur")


# -- crashes and concurrency ------------------------------------------------------------------------------

SCHEDULE = [
    (date(2025, 3, 17), []),
    (date(2025, 4, 1), [("bijstand", "702.69")]),
    (date(2025, 5, 1), [("bijstand", "1281.38")]),
    (date(2025, 5, 20), [("zorgtoeslag", "393.00")]),
    (date(2025, 6, 2), [("bijstand", "1281.38")]),
]
NAMES = ("Yonas Tesfay", "Saba Tesfay", "Amanuel Kidane")

RUNNER = """
import sys
from datetime import date
from pathlib import Path
from budget_ledger.adapters.db.bootstrap import services
from budget_ledger.adapters.db.engine import Database
from budget_ledger.settings import load_settings
url, config, day = sys.argv[1:4]
bundle = services(Database(load_settings(config_dir=Path(config), database_url=url)))
# Warm up (imports, caches, a connection) with a dry run, which writes nothing, so the kill's clock runs
# over the run's own work.
bundle.payment_runs.start(date.fromisoformat(day), actor="batch", dry_run=True)
print("ready", flush=True)
sys.stdin.readline()
bundle.payment_runs.start(date.fromisoformat(day), actor="batch",
                          progress=lambda done, total, h, line: print("household", h, flush=True))
print("done", flush=True)
"""


def _households(services) -> list[int]:
    return [add_s1(services, name) for name in NAMES]


def _receive(services, households, arrivals, day) -> None:
    for h in households:
        for source, amount in arrivals:
            services.ledger.post(income_received(h, day, source, amount))


def _spawn(url: str, day: date) -> subprocess.Popen:
    from conftest import CONFIG_DIR

    return subprocess.Popen([sys.executable, "-c", RUNNER, url, str(CONFIG_DIR), day.isoformat()],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def test_a_run_killed_at_random_moments_and_run_again_pays_every_obligation_exactly_once(
        services, database, database_maker, profile_catalog):
    from budget_ledger.adapters.db.bootstrap import services as build

    rng = random.Random(int(os.environ.get("BL_CRASH_SEED", "5")))
    reference_db = database_maker.make()
    reference = build(reference_db, catalog=profile_catalog)
    households, reference_households = _households(services), _households(reference)
    assert households == reference_households
    url = database.settings.database_url
    outcomes: Counter[str] = Counter()
    for day, arrivals in SCHEDULE:
        _receive(services, households, arrivals, day)
        _receive(reference, households, arrivals, day)
        started = time.perf_counter()
        reference.payment_runs.start(day, actor="batch")
        window = time.perf_counter() - started  # as long as a (warm) run takes
        # Start the runners' interpreters together so their start-up overlaps; then let each run a random
        # part of a run's time and kill it with SIGKILL (no clean-up, no rollback from the client's side).
        runners = [_spawn(url, day) for _ in range(4)]
        for runner in runners:
            assert runner.stdout.readline().strip() == "ready"
        for runner in runners:
            runner.stdin.write("go\n")
            runner.stdin.flush()
            time.sleep(rng.uniform(0.0, window))
            runner.send_signal(signal.SIGKILL)
            runner.wait()
            said = runner.stdout.read().split()
            outcomes["finished" if "done" in said else "between or inside households" if "household" in said
                     else "before or inside the first household"] += 1
            runner.stdout.close()
            runner.stdin.close()
            assert_paid_exactly_once(database, services)
        resumed = services.payment_runs.start(day, actor="batch")
        assert resumed.failed == ()
        assert paid(database) == paid(reference_db), f"after the run of {day}"
        assert_paid_exactly_once(database, services)
    assert outcomes.total() >= 20 and outcomes["finished"] <= outcomes.total() - 10, outcomes
    assert {(a.code, b) for a, b in services.ledger.balances()} == {(a.code, b) for a, b in reference.ledger.balances()}


def test_four_runners_at_once_pay_nothing_twice(services, database, database_maker, profile_catalog):
    from budget_ledger.adapters.db.bootstrap import services as build

    households = _households(services)
    reference_db = database_maker.make()
    reference = build(reference_db, catalog=profile_catalog)
    _households(reference)
    for day, arrivals in SCHEDULE[:3]:
        _receive(services, households, arrivals, day)
        _receive(reference, households, arrivals, day)
        reference.payment_runs.start(day, actor="batch")
        before = len(paid(database))
        barrier = threading.Barrier(4)
        reports, errors = [], []

        def runner(day=day, barrier=barrier, reports=reports, errors=errors) -> None:
            barrier.wait()
            try:
                reports.append(services.payment_runs.start(day, actor="batch"))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=runner) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and all(r.failed == () for r in reports)
        assert sum(r.instructions_created for r in reports) == len(paid(database)) - before
        assert paid(database) == paid(reference_db)
        assert_paid_exactly_once(database, services)


def test_the_scheduler_books_the_fixed_costs_at_six_and_the_leefgeld_after_them(services, database, s1):
    """The payment-run job books S1's huur and zorg on 17 March, the leefgeld-run job the €120 leefgeld; run
    again, neither books anything twice, and together they book what one run of everything books."""
    from dataclasses import replace

    from budget_ledger.adapters.scheduler import jobs
    from budget_ledger.adapters.scheduler.runner import context_for, job_specs

    triggers = {job_id: str(trigger) for job_id, _, trigger, _ in job_specs(database.settings)}
    assert triggers[jobs.PAYMENT_RUN] == "cron[day_of_week='mon-fri', hour='6', minute='0']"
    assert triggers[jobs.LEEFGELD_RUN] == "cron[day_of_week='mon-fri', hour='6', minute='30']"
    jobs.configure(replace(context_for(database), today=lambda: RUN_DAY))
    try:
        jobs.payment_run()
        fixed = services.payment_runs.instructions_of(s1)
        assert "leefgeld" not in {i.category for i in fixed} and {i.category for i in fixed} >= {"huur"}
        jobs.leefgeld_run()
        leefgeld = [i for i in services.payment_runs.instructions_of(s1) if i.category == "leefgeld"]
        assert [str(i.amount) for i in leefgeld] == ["120.00"]
        jobs.payment_run()
        jobs.leefgeld_run()
    finally:
        jobs.configure(None)
    assert [r.scope["kind"] for r in services.payment_runs.runs()] == ["vaste-lasten", "leefgeld"] * 2
    split = sorted((i.category, str(i.amount)) for i in services.payment_runs.instructions_of(s1))
    other = add_s1(services, "Saba Tesfay")
    services.payment_runs.start(RUN_DAY, households=[other], actor=BEHEERDER)
    assert sorted((i.category, str(i.amount)) for i in services.payment_runs.instructions_of(other)) == split
    assert_paid_exactly_once(database, services)


def test_an_unknown_run_kind_is_refused_naming_the_field(services, database, s1):
    with pytest.raises(InvalidInputError) as refused:
        services.payment_runs.start(RUN_DAY, actor=BEHEERDER, kind="boodschappen")
    assert refused.value.field == "kind"
    assert count_rows(database, "payment_runs") == 0


def test_the_database_keeps_the_record_of_payments(services, database, s1):
    """Payment runs and instructions cannot be deleted or rewritten, even bypassing the service: only the
    status moves (approval still works), and a rejected instruction is final."""
    report = services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    first = report.instruction_ids[0]
    services.payment_runs.reject_instruction(report.instruction_ids[1], CHECKER, "verkeerde IBAN")
    attempts = [
        "DELETE FROM payment_instructions",
        f"DELETE FROM payment_runs WHERE id = {report.run_id}",
        f"UPDATE payment_instructions SET amount_cents = 1 WHERE id = {first}",
        f"UPDATE payment_instructions SET iban = 'NL02ABNA0123456789' WHERE id = {first}",
        f"UPDATE payment_runs SET started_by = '{CHECKER}' WHERE id = {report.run_id}",
        f"UPDATE payment_instructions SET status = 'planned' WHERE id = {report.instruction_ids[1]}",
    ]
    if database.engine.dialect.name == "postgresql":
        attempts += ["TRUNCATE payment_instructions CASCADE", "TRUNCATE payment_runs CASCADE"]
    before = [(i.id, i.status, i.amount, i.iban) for i in services.payment_runs.instructions(report.run_id)]
    for sql in attempts:
        with pytest.raises(IntegrityError):
            with database.engine.begin() as conn:
                conn.execute(text(sql))
    assert [(i.id, i.status, i.amount, i.iban) for i in services.payment_runs.instructions(report.run_id)] == before
    assert services.payment_runs.approve(report.run_id, CHECKER).status.value == "approved"


def test_a_chunk_of_households_writes_its_instructions_with_the_drivers_executemany(
        services, database, monkeypatch):
    """The bulk path's instruction rows go through the driver (adapters/db/driver_inserts.py), not quietly
    through SQLAlchemy's row-by-row insert, and are stored as that insert would store them."""
    from budget_ledger.adapters.db import payment_store

    used = []
    real = payment_store.insert_many_by_driver

    def spy(conn, table, rows):
        done = real(conn, table, rows)
        used.append((table.name, len(rows), done))
        return done

    monkeypatch.setattr(payment_store, "insert_many_by_driver", spy)
    first, second = add_s1(services), add_s1(services, "Selam Tesfay")
    report = services.payment_runs.start(RUN_DAY, gemeente="roermond", actor=BEHEERDER)
    assert report.processed == (first, second) and report.instructions_created == 6
    assert used == [("payment_instructions", 6, True)]  # sqlite3 and psycopg 3 alike
    stored = services.payment_runs.instructions(report.run_id)
    assert [(i.household_id, i.category, i.amount, i.status.value) for i in stored] == [
        (h, category, M(amount), "planned") for h in (first, second)
        for category, amount in (("huur", "356.45"), ("zorgverzekering", "82.26"), ("leefgeld", "120.00"))]
    assert all(i.created_at is not None and i.created_at.tzinfo is not None for i in stored)
    assert_paid_exactly_once(database, services)
