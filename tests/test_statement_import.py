"""Bank statements in (issue 6), on SQLite and PostgreSQL: each line once, matched with its reason, booked,
and the balances reconciled. The statements are built as records here (the CAMT.053 reader has its own
tests in tests/test_camt053.py; the CLI test at the end reads real files).

The household is S1's (domain.md S1, in Roermond): the kredietbank's first run on 17 March 2025 pays the
part-month huur (356.45) and zorg (82.26); the bank reports the two as one batch entry of 438.71.
"""

from __future__ import annotations

from datetime import date

import pytest
from registry import BEHEERDER, count_rows, gemeente, single
from test_payment_runs import CHECKER, RUN_DAY, add_s1

from budget_ledger.bank_lines import LineStatus
from budget_ledger.bank_statements import (
    Balance,
    BalanceKind,
    BankTransaction,
    CreditDebit,
    EntryStatus,
    Statement,
    StatementEntry,
    StatementFile,
)
from budget_ledger.chart import (
    BANK,
    GEMEENTE_RECEIVABLE,
    IN_TRANSIT,
    UNMATCHED,
    household_code,
    organisation_accounts,
)
from budget_ledger.errors import ConflictError, InvalidInputError
from budget_ledger.identifiers import household_reference
from budget_ledger.ledger.money import Money
from budget_ledger.payment_runs import InstructionStatus

M = Money.parse
OURS = "NL38BNGH0285012345"
BELASTINGDIENST = "NL86INGB0002445588"
GEMEENTE_DEVENTER = "NL79BNGH0285169717"
ROERMOND = "NL39RABO0300065264"
"""Gemeente Roermond's own account (its repayment IBAN in test_payment_runs.add_s1)."""
CRDT, DBIT = CreditDebit.CREDIT, CreditDebit.DEBIT


def tx(amount: str, cd: CreditDebit = CRDT, **fields) -> BankTransaction:
    return BankTransaction(M(amount), cd, **fields)


def entry(index: int, on: date, *transactions: BankTransaction, ref: str | None = None, **fields) -> StatementEntry:
    total = Money.sum(t.signed for t in transactions)
    return StatementEntry(index=index, amount=abs(total), credit_debit=CRDT if total.cents > 0 else DBIT,
                          status=fields.pop("status", EntryStatus.BOOKED), booking_date=on, value_date=on,
                          transactions=transactions, account_servicer_reference=ref, **fields)


def statement(*entries: StatementEntry, opening: str | None = None, on: date | None = None, closing: str | None = None,
              iban: str = OURS, sid: str = "STMT-1", currency: str = "EUR") -> StatementFile:
    day = on or entries[0].booking_date
    last = max((e.booking_date for e in entries), default=day)
    balances = []
    if opening is not None:
        balances.append(Balance(BalanceKind.OPENING, M(opening), day))
    if closing is not None:
        balances.append(Balance(BalanceKind.CLOSING, M(closing), last))
    stmt = Statement(sid, iban, currency, None, day, last, tuple(balances), tuple(entries))
    return StatementFile(f"MSG-{sid}", "camt.053.001.02", None, (stmt,), sha256="0" * 64)


def bank_balance(services) -> Money:
    return services.ledger.balance(BANK)


@pytest.fixture
def exported_run(services):
    return s1_exported(services)


def s1_exported(services):
    """S1's run of 17 March, approved by a second person and exported: huur and zorg wait in onderweg."""
    h = add_s1(services)
    report = services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    services.payment_runs.approve(report.run_id, CHECKER)
    services.payment_runs.mark_exported(report.run_id, "MSG-RUN-1", CHECKER)
    exported = {i.category: i for i in services.payment_runs.instructions(report.run_id, "exported")}
    assert set(exported) == {"huur", "zorgverzekering"}
    return h, report.run_id, exported


def march_18(exported, *more: StatementEntry, **kwargs) -> StatementFile:
    huur, zorg = exported["huur"], exported["zorgverzekering"]
    batch = entry(0, date(2025, 3, 18),
                  tx("356.45", DBIT, end_to_end_id=huur.end_to_end_id, counterparty_iban=huur.iban,
                     counterparty_name=huur.payee_name),
                  tx("82.26", DBIT, end_to_end_id=zorg.end_to_end_id, counterparty_iban=zorg.iban,
                     counterparty_name=zorg.payee_name),
                  ref="BNG-20250318-0001", batch_payment_information_id="RUN1-20250317", batch_count=2)
    return statement(batch, *more, **kwargs)


# -- (a) our own payments ----------------------------------------------------------------------------------


def test_a_batch_of_our_payments_is_expanded_each_one_executed_and_the_statement_reconciles(services, exported_run):
    h, run_id, exported = exported_run
    # The krediet (3,500.00) is in. Roermond's gift of the first part-month's huur (356.45) paid the huur, but
    # the gemeente has not transferred it yet: the ledger has it to receive, not in the bank.
    assert bank_balance(services) == M("3500.00")
    assert services.ledger.balance(GEMEENTE_RECEIVABLE) == M("356.45")
    gift = entry(1, date(2025, 3, 18), tx("356.45", counterparty_iban=ROERMOND, counterparty_name="Gemeente Roermond",
                                          structured_reference=household_reference(h),
                                          remittance_text="Bijzondere bijstand eerste huur"), ref="BNG-20250318-0002")
    report = services.bank_import.import_file(
        march_18(exported, gift, opening="3500.00", closing="3417.74"), "bank-import").statements[0]

    assert (report.lines_total, report.lines_new, report.lines_known) == (3, 3, 0)
    assert dict(report.by_kind) == {"eigen-betaling": 2, "inleg-gemeente": 1} and report.unmatched == 0
    assert report.executed == 2
    assert report.reconciled and report.ledger_closing == M("3417.74")
    assert bank_balance(services) == M("3417.74")
    assert services.ledger.balance(GEMEENTE_RECEIVABLE) == M("0")
    # Both legs of both payments; what is left onderweg is March's leefgeld, not in the file (no client IBAN yet).
    assert services.ledger.balance(IN_TRANSIT) == M("-120.00")
    statuses = {i.category: i.status for i in services.payment_runs.instructions(run_id) if i.iban}
    assert statuses == {"huur": InstructionStatus.EXECUTED, "zorgverzekering": InstructionStatus.EXECUTED}
    lines = services.bank_queue.unmatched()
    assert lines == []
    assert services.ledger.trial_balance().is_balanced


def _from_roermond(h: int, amount: str, ref: str, index: int = 0, text: str = "Bijzondere bijstand eerste huur"):
    return entry(index, date(2025, 3, 18), tx(amount, counterparty_iban=ROERMOND, counterparty_name="Gemeente Roermond",
                                              structured_reference=household_reference(h), remittance_text=text),
                 ref=ref)


def test_the_gemeentes_gift_is_received_once_and_never_as_income_or_for_more_than_it_put_in(services, exported_run):
    """Roermond put in 356.45 for S1's first part-month of huur. Its transfer clears what is to be received;
    the same money again in the same statement, or a transfer for more than was put in, is not taken for it
    and waits for a person (bijzondere bijstand, a correction?)."""
    h, _, exported = exported_run
    twice = [_from_roermond(h, "356.45", "G1"), _from_roermond(h, "356.45", "G2", 1), _from_roermond(h, "400.00", "G3", 2)]
    report = services.bank_import.import_file(statement(*twice), "bank-import").statements[0]
    assert dict(report.by_kind) == {"inleg-gemeente": 1} and report.unmatched == 2
    assert services.ledger.balance(GEMEENTE_RECEIVABLE) == M("0")
    assert services.ledger.balance(household_code(h, "inkomen", "overig")) == M("0")  # never spendable twice
    with services.bank_queue._tx.open() as uow:  # noqa: SLF001 - read the stored lines as an auditor would
        stored = {line.line_key: line for line in uow.bank.lines()}
    assert stored["ref:G1"].match_kind.value == "inleg-gemeente" and stored["ref:G1"].household_id == h
    assert "nog te ontvangen" in stored["ref:G1"].match_reason
    assert stored["ref:G2"].status is LineStatus.UNMATCHED and stored["ref:G2"].details["candidates"] == [h]


def test_a_gift_the_gemeente_pays_without_its_kenmerk_is_assigned_from_the_queue_against_what_is_to_be_received(
        services, exported_run):
    """The gemeente's transfer without the kenmerk waits in the queue; the budgetbeheerder books it against
    what is to be received (not as income: the household had the money when the run put it in). Once it is
    received, the same purpose is refused: there is nothing left to receive."""
    h, _, exported = exported_run
    plain = [entry(n, date(2025, 3, 18), tx("356.45", counterparty_iban=ROERMOND, counterparty_name="Gemeente Roermond",
                                            remittance_text="BB eerste huur Tesfay"), ref=f"G{n + 4}") for n in range(2)]
    services.bank_import.import_file(statement(*plain), "bank-import")
    first, second = services.bank_queue.unmatched()
    with pytest.raises(InvalidInputError) as with_source:
        services.bank_queue.assign(first.id, {"parts": [{"household_id": h, "amount": "356.45", "source": "gift",
                                                         "purpose": "inleg-gemeente"}], "note": "eerste huur"}, BEHEERDER)
    assert with_source.value.problems[0].field == "parts.0"
    assigned = services.bank_queue.assign(
        first.id, {"parts": [{"household_id": h, "amount": "356.45", "purpose": "inleg-gemeente"}],
                   "note": "bijzondere bijstand eerste huur, zonder kenmerk overgemaakt"}, BEHEERDER)
    assert assigned.status is LineStatus.ASSIGNED and assigned.household_id == h
    assert services.ledger.balance(GEMEENTE_RECEIVABLE) == M("0")
    with pytest.raises(InvalidInputError) as nothing_left:
        services.bank_queue.assign(second.id, {"parts": [{"household_id": h, "amount": "356.45",
                                                          "purpose": "inleg-gemeente"}], "note": "nog eens"}, BEHEERDER)
    assert nothing_left.value.problems[0].field == "parts[0].amount"
    assert "still to receive" in str(nothing_left.value)
    assert [line.id for line in services.bank_queue.unmatched()] == [second.id]
    assert services.ledger.trial_balance().is_balanced


def test_a_toeslag_voorschot_the_gemeente_put_in_is_received_as_such_not_as_the_toeslag_it_advances(services):
    """S2 in Deventer: the 1 April run pays the rent with the toeslag advance (131.00 zorg- and 330.00
    huurtoeslag) the gemeente puts in. Its transfer of 461.00 on 2 April, from its own account with the
    household's kenmerk, is that advance arriving: not zorgtoeslag or huurtoeslag income (the toeslagen come
    from the Belastingdienst later and repay the advance)."""
    services.ledger.open_accounts(organisation_accounts())
    gemeente(services, "deventer", rule_profile="deventer", repayment_iban=GEMEENTE_DEVENTER,
             repayment_account_holder_name="Gemeente Deventer")
    h = single(services, gemeente_code="deventer", bijstand_start=date(2025, 3, 1), housing_date=date(2025, 3, 1)
               ).household.id
    services.creditors.add(h, {
        "organisation": "Woonbedrijf Ieder1", "account_holder_name": "Woonbedrijf Ieder1", "iban": "NL02ABNA0123456789",
        "category": "huur", "reference_kind": "vrij", "reference": "huur Brink 7",
        "schedule": {"amount": "650.00", "frequency": "monthly", "day": 1, "valid_from": date(2025, 4, 1)}}, BEHEERDER)
    services.income.add(h, {"source": "bijstand", "amount": "1281.38", "entitlement_from": date(2025, 3, 1),
                            "payer_ibans": [GEMEENTE_DEVENTER]}, BEHEERDER)
    for source, amount, first in (("zorgtoeslag", "131.00", date(2025, 5, 20)), ("huurtoeslag", "330.00", date(2025, 6, 20))):
        services.income.add(h, {"source": source, "amount": amount, "entitlement_from": date(2025, 4, 1),
                                "first_expected_on": first, "payer_ibans": [BELASTINGDIENST]}, BEHEERDER)
    services.profiles.assign(h, {"valid_from": date(2025, 3, 1), "profile": None,
                                 "overrides": {"toeslag_voorschot": {"on_request": False}},
                                 "reason": "Klant heeft voorschot op zorg- en huurtoeslag aangevraagd"}, BEHEERDER)
    trajectory = services.trajectories.start(h, {}, BEHEERDER)
    services.trajectories.activate(trajectory.id, BEHEERDER)
    bijstand = entry(0, date(2025, 4, 1), tx("1281.38", counterparty_iban=GEMEENTE_DEVENTER,
                                             counterparty_name="Gemeente Deventer",
                                             structured_reference=household_reference(h),
                                             remittance_text="Uitkering Participatiewet maart"), ref="D1")
    assert dict(services.bank_import.import_file(statement(bijstand), "bank-import").statements[0].by_kind) \
        == {"verwacht-inkomen": 1}
    services.planning.run(h, date(2025, 4, 1), "batch")
    assert services.ledger.balance(GEMEENTE_RECEIVABLE) == M("461.00")
    assert bank_balance(services) == M("1281.38")  # the advance is not in the bank yet

    advance = entry(0, date(2025, 4, 2), tx("461.00", counterparty_iban=GEMEENTE_DEVENTER,
                                            counterparty_name="Gemeente Deventer",
                                            structured_reference=household_reference(h),
                                            remittance_text="Voorschot toeslagen april"), ref="D2")
    report = services.bank_import.import_file(statement(advance), "bank-import").statements[0]
    assert dict(report.by_kind) == {"inleg-gemeente": 1}
    assert services.ledger.balance(GEMEENTE_RECEIVABLE) == M("0")
    assert bank_balance(services) == M("1742.38")
    for source in ("zorgtoeslag", "huurtoeslag", "overig"):
        assert services.ledger.balance(household_code(h, "inkomen", source)) == M("0")


def test_the_same_statement_again_and_an_overlapping_one_book_each_line_once(services, database, exported_run):
    h, run_id, exported = exported_run
    services.bank_import.import_file(march_18(exported), "bank-import")
    entries_before = count_rows(database, "journal_entries")
    again = services.bank_import.import_file(march_18(exported), "bank-import").statements[0]
    assert (again.lines_new, again.lines_known) == (0, 2)

    wages = entry(1, date(2025, 3, 19), tx("25.00", counterparty_iban="NL91ABNA0417164300",
                                           remittance_text="onbekende storting"), ref="BNG-20250319-0007")
    overlapping = services.bank_import.import_file(march_18(exported, wages, sid="STMT-2"), "bank-import")
    assert (overlapping.lines_new, overlapping.lines_known) == (1, 2)
    assert count_rows(database, "journal_entries") == entries_before + 1
    assert count_rows(database, "bank_lines") == 3
    assert bank_balance(services) == M("3500.00") - M("438.71") + M("25.00")


def test_a_large_import_refreshes_the_statistics_of_the_bank_lines_and_stays_one_transaction(
        services, database, exported_run, monkeypatch):
    """On PostgreSQL a large import analyses bank_lines (in a savepoint) so the next dedupe uses the index;
    the import around it is unchanged, and a second import still knows every line."""
    import budget_ledger.adapters.db.bank_store as bank_store

    monkeypatch.setattr(bank_store, "_ANALYZE_AFTER", 1)
    h, run_id, exported = exported_run
    first = services.bank_import.import_file(march_18(exported), "bank-import").statements[0]
    assert (first.lines_new, first.lines_known) == (2, 0)
    again = services.bank_import.import_file(march_18(exported), "bank-import").statements[0]
    assert (again.lines_new, again.lines_known) == (0, 2)
    assert count_rows(database, "bank_lines") == 2
    if database.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with database.engine.connect() as conn:
            analysed = conn.execute(text("SELECT coalesce(analyze_count, 0) + coalesce(autoanalyze_count, 0) "
                                         "FROM pg_stat_user_tables WHERE relname = 'bank_lines'")).scalar()
        assert analysed and analysed > 0


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True)
def test_a_database_user_who_may_not_analyse_bank_lines_still_imports_a_large_statement_whole(
        database, profile_catalog, exported_run, monkeypatch):
    """Production may run the service as a user that can read and write the tables but does not own them,
    and only an owner may ANALYZE (PostgreSQL skips it with a warning). The import must not depend on it:
    every line is imported, the statistics stay as they were, and the next import knows every line."""
    import uuid

    from conftest import make_settings
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    import budget_ledger.adapters.db.bank_store as bank_store
    from budget_ledger.adapters.db.bootstrap import services as build
    from budget_ledger.adapters.db.engine import Database

    monkeypatch.setattr(bank_store, "_ANALYZE_AFTER", 1)
    h, run_id, exported = exported_run
    url = make_url(database.settings.database_url)
    role = f"bl_app_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")

    def analysed() -> int:
        with admin.connect() as conn:
            return conn.execute(text("SELECT coalesce(analyze_count, 0) + coalesce(autoanalyze_count, 0) "
                                     "FROM pg_stat_user_tables WHERE relname = 'bank_lines'")).scalar() or 0

    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"'))
        conn.execute(text(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"'))
    app = Database(make_settings(url.set(username=role, password=None).render_as_string(hide_password=False)))
    try:
        with app.engine.connect() as conn:  # the premise: this user is not the owner and may not analyse
            assert conn.execute(text("SELECT tableowner <> current_user FROM pg_tables "
                                     "WHERE tablename = 'bank_lines'")).scalar() is True
        before = analysed()
        as_app = build(app, catalog=profile_catalog)
        first = as_app.bank_import.import_file(march_18(exported), "bank-import").statements[0]
        assert (first.lines_new, first.lines_known) == (2, 0)
        assert {i.category: i.status for i in as_app.payment_runs.instructions(run_id) if i.category in exported} \
            == {"huur": InstructionStatus.EXECUTED, "zorgverzekering": InstructionStatus.EXECUTED}
        again = as_app.bank_import.import_file(march_18(exported), "bank-import").statements[0]
        assert (again.lines_new, again.lines_known) == (0, 2)
        assert count_rows(database, "bank_lines") == 2
        assert analysed() == before  # skipped, not failed: nothing was analysed and nothing was lost
    finally:
        app.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


def test_lines_without_a_bank_reference_are_known_again_by_what_the_bank_said(services, exported_run):
    h, _, exported = exported_run
    same = [entry(0, date(2025, 3, 19), tx("10.00", counterparty_iban="NL91ABNA0417164300", remittance_text="gift")),
            entry(1, date(2025, 3, 19), tx("10.00", counterparty_iban="NL91ABNA0417164300", remittance_text="gift"))]
    first = services.bank_import.import_file(statement(*same), "bank-import").statements[0]
    second = services.bank_import.import_file(statement(*same, sid="STMT-2"), "bank-import").statements[0]
    assert (first.lines_new, second.lines_new, second.lines_known) == (2, 0, 2)  # two equal gifts stay two


# -- (b) returns -------------------------------------------------------------------------------------------


def test_a_returned_payment_reopens_its_obligation_puts_the_money_back_and_warns(services, database, exported_run):
    h, run_id, exported = exported_run
    services.bank_import.import_file(march_18(exported), "bank-import")
    zorg = exported["zorgverzekering"]
    basis_before = services.ledger.balance(household_code(h, "basis"))
    returned = entry(0, date(2025, 3, 21), tx("82.26", end_to_end_id=zorg.end_to_end_id, return_reason="AC04",
                                              counterparty_iban=zorg.iban, remittance_text="RETOUR rekening opgeheven"),
                     ref="BNG-20250321-0002")
    report = services.bank_import.import_file(statement(returned, sid="STMT-3"), "bank-import").statements[0]

    assert dict(report.by_kind) == {"terugboeking": 1} and report.returned == 1
    [after] = [i for i in services.payment_runs.instructions(run_id) if i.id == zorg.id]
    assert after.status is InstructionStatus.REJECTED and "AC04" in after.rejection_reason
    assert services.ledger.balance(household_code(h, "basis")) == basis_before + M("82.26")
    assert services.ledger.balance(IN_TRANSIT) == M("-120.00")  # the leefgeld only, as before
    [warning] = services.warnings.list(type="betaling-teruggeboekt")
    assert warning.household_id == h and "AC04" in warning.message and warning.severity.value == "critical"
    # The obligation is free again: the next run pays the zorg of March once more (key '#2').
    rerun = services.payment_runs.start(date(2025, 3, 24), actor=BEHEERDER)
    again = [i for i in services.payment_runs.instructions(rerun.run_id) if i.category == "zorgverzekering"]
    assert [(i.amount, i.due_date, i.entry_key.endswith("#2")) for i in again] == [(M("82.26"), zorg.due_date, True)]


def test_a_return_of_a_payment_we_do_not_know_goes_to_the_work_queue(services, exported_run):
    odd = entry(0, date(2025, 3, 21), tx("40.00", end_to_end_id="SOMEONE-ELSES", return_reason="MD07"))
    report = services.bank_import.import_file(statement(odd), "bank-import").statements[0]
    assert report.unmatched == 1
    [line] = services.bank_queue.unmatched()
    assert "niet kennen" in line.match_reason and line.amount == M("40.00")
    assert services.ledger.balance(UNMATCHED) == M("-40.00")


# -- (c) income, (d) references ------------------------------------------------------------------------------


@pytest.fixture
def two_in_deventer(services):
    """Two singles in Deventer whose bijstand comes from the gemeente and whose zorgtoeslag comes from the
    Belastingdienst's one IBAN, from 1 April, first paid on 20 May (April, May and June: 393.00)."""
    services.ledger.open_accounts(organisation_accounts())
    gemeente(services, "deventer", rule_profile="deventer")
    households = []
    for name, bsn in (("Amira Haddad", "111222333"), ("Samir Idris", "123456782")):
        h = single(services, gemeente_code="deventer", bijstand_start=date(2025, 3, 1), housing_date=date(2025, 3, 1),
                    bsn=bsn, members=[{"name": name, "date_of_birth": date(1990, 2, 1), "role": "aanvrager"}]
                    ).household.id
        services.income.add(h, {"source": "bijstand", "amount": "1281.38", "entitlement_from": date(2025, 3, 1),
                                "payer_ibans": [GEMEENTE_DEVENTER], "references": [f"KLANT {h:05d}"]}, BEHEERDER)
        services.income.add(h, {"source": "zorgtoeslag", "amount": "131.00", "entitlement_from": date(2025, 4, 1),
                                "first_expected_on": date(2025, 5, 20), "payer_ibans": [BELASTINGDIENST]}, BEHEERDER)
        trajectory = services.trajectories.start(h, {}, BEHEERDER)
        services.trajectories.activate(trajectory.id, BEHEERDER)
        households.append(h)
    return households


def test_income_is_matched_by_payer_amount_and_date_and_named_by_the_remittance(services, two_in_deventer):
    a, b = two_in_deventer
    lines = [
        entry(0, date(2025, 4, 1), tx("1281.38", counterparty_iban=GEMEENTE_DEVENTER, counterparty_name="Gemeente Deventer",
                                      remittance_text=f"Bijstand maart 2025 KLANT {a:05d}"), ref="R1"),
        # The Belastingdienst pays both; the BSN in the text says whose it is. 393 = April, May and June (S2).
        entry(1, date(2025, 5, 20), tx("393.00", counterparty_iban=BELASTINGDIENST, counterparty_name="Belastingdienst",
                                       remittance_text="ZORGTOESLAG 2025 BSN 123456782"), ref="R2"),
        entry(2, date(2025, 5, 20), tx("393.00", counterparty_iban=BELASTINGDIENST, counterparty_name="Belastingdienst",
                                       remittance_text="ZORGTOESLAG 2025"), ref="R3"),
    ]
    report = services.bank_import.import_file(statement(*lines), "bank-import").statements[0]
    assert dict(report.by_kind) == {"verwacht-inkomen": 2} and report.unmatched == 1

    assert services.ledger.balance(household_code(a, "inkomen", "bijstand")) == M("-1281.38")
    assert services.ledger.balance(household_code(b, "inkomen", "zorgtoeslag")) == M("-393.00")
    with services.bank_queue._tx.open() as uow:  # noqa: SLF001 - read the stored lines as an auditor would
        stored = {line.line_key: line for line in uow.bank.lines()}
    toeslag = stored["ref:R2"]
    assert toeslag.household_id == b and toeslag.match_kind.value == "verwacht-inkomen"
    assert toeslag.details["covers"] == [["2025-04-01", "131.00"], ["2025-05-01", "131.00"], ["2025-06-01", "131.00"]]
    assert "precies de verwachte" in toeslag.match_reason
    ambiguous = stored["ref:R3"]
    assert ambiguous.status is LineStatus.UNMATCHED and sorted(ambiguous.details["candidates"]) == [a, b]


def test_a_toeslag_naming_one_household_is_never_booked_for_another_whose_expectation_its_amount_fits(
        services, two_in_deventer):
    """Samir's zorgtoeslag arrives late, as one back-payment of four months (524.00), with his BSN. It fits
    none of his expected payments, but it is exactly what a third household expects from the same
    Belastingdienst IBAN that day. The remittance names Samir: the money is his, never the other
    household's (the simulation found the Belastingdienst's lines booked for the wrong household)."""
    _, samir = two_in_deventer
    other = single(services, gemeente_code="deventer", bijstand_start=date(2025, 3, 1), housing_date=date(2025, 3, 1),
                   members=[{"name": "Lina Tesfay", "date_of_birth": date(1991, 3, 1), "role": "aanvrager"}]
                   ).household.id
    services.income.add(other, {"source": "zorgtoeslag", "amount": "131.00", "entitlement_from": date(2025, 3, 1),
                                "first_expected_on": date(2025, 5, 20), "payer_ibans": [BELASTINGDIENST]}, BEHEERDER)
    trajectory = services.trajectories.start(other, {}, BEHEERDER)
    services.trajectories.activate(trajectory.id, BEHEERDER)

    late = entry(0, date(2025, 5, 20), tx("524.00", counterparty_iban=BELASTINGDIENST, counterparty_name="Belastingdienst",
                                          remittance_text="ZORGTOESLAG 2025 BSN 123456782"), ref="L1")
    services.bank_import.import_file(statement(late), "bank-import")
    with services.bank_queue._tx.open() as uow:  # noqa: SLF001 - read the stored line as an auditor would
        line = next(line for line in uow.bank.lines() if line.line_key == "ref:L1")
    assert line.household_id != other
    assert services.ledger.balance(household_code(other, "inkomen", "zorgtoeslag")) == M("0")
    # It waits for a person, saying whose it is and why it was not booked (more months than expected).
    assert line.status is LineStatus.UNMATCHED and line.details["candidates"] == [samir]
    assert f"noemt huishouden {samir}" in line.match_reason and "geen verwachte betaling" in line.match_reason
    services.bank_queue.assign(line.id, {"parts": [{"household_id": samir, "amount": "524.00", "source": "zorgtoeslag"}],
                                         "note": "zorgtoeslag maart tot en met juni, te laat uitbetaald"},
                               BEHEERDER)
    assert services.ledger.balance(household_code(samir, "inkomen", "zorgtoeslag")) == M("-524.00")


def test_a_toeslag_the_remittance_names_is_not_booked_as_another_toeslag_whose_amount_it_fits(
        services, two_in_deventer):
    """Amira also gets huurtoeslag, 393.00 a month from May. On 20 May Dienst Toeslagen pays 393.00 with the
    text "Huurtoeslag": it fits her zorgtoeslag's first payment (April to June) as well as her huurtoeslag, and
    the text says which one it is."""
    amira, _ = two_in_deventer
    services.income.add(amira, {"source": "huurtoeslag", "amount": "393.00", "entitlement_from": date(2025, 6, 1),
                                "first_expected_on": date(2025, 5, 20), "payer_ibans": [BELASTINGDIENST]}, BEHEERDER)
    huur = entry(0, date(2025, 5, 20), tx("393.00", counterparty_iban=BELASTINGDIENST, counterparty_name="Belastingdienst",
                                          remittance_text="HUURTOESLAG 2025 BSN 111222333"), ref="H1")
    zorg = entry(1, date(2025, 5, 20), tx("393.00", counterparty_iban=BELASTINGDIENST, counterparty_name="Belastingdienst",
                                          remittance_text="ZORGTOESLAG 2025 BSN 111222333"), ref="Z1")
    report = services.bank_import.import_file(statement(huur, zorg), "bank-import").statements[0]
    assert dict(report.by_kind) == {"verwacht-inkomen": 2}
    assert services.ledger.balance(household_code(amira, "inkomen", "huurtoeslag")) == M("-393.00")
    assert services.ledger.balance(household_code(amira, "inkomen", "zorgtoeslag")) == M("-393.00")


def test_an_amount_outside_the_tolerance_or_the_window_is_not_taken_for_expected_income(services, two_in_deventer):
    a, _ = two_in_deventer
    far = [entry(0, date(2025, 4, 1), tx("1400.00", counterparty_iban=GEMEENTE_DEVENTER,
                                         remittance_text=f"KLANT {a:05d}"), ref="T1"),
           entry(1, date(2025, 4, 15), tx("1281.38", counterparty_iban=GEMEENTE_DEVENTER,
                                          remittance_text=f"KLANT {a:05d}"), ref="T2")]
    report = services.bank_import.import_file(statement(*far), "bank-import").statements[0]
    assert report.unmatched == 2


def test_the_households_own_kenmerk_names_it_and_a_late_toeslag_passed_on_by_the_client_is_that_toeslag(
        services, two_in_deventer):
    """S8: the zorgtoeslag of 20 May landed on the client's own account; on 23 May the client transfers it,
    with the household's kenmerk. It is booked as the zorgtoeslag it is, so the late-income warning goes."""
    a, _ = two_in_deventer
    def late_zorgtoeslag() -> list[int]:
        return [w.household_id for w in services.warnings.list(type="inkomen-te-laat")
                if w.message.startswith("Zorgtoeslag")]

    services.warnings.scan(date(2025, 5, 22))
    assert late_zorgtoeslag() == [a, a + 1]
    passed_on = entry(0, date(2025, 5, 23), tx("393.00", counterparty_iban="NL44RABO0123456789",
                                               counterparty_name="A. Haddad", structured_reference=household_reference(a),
                                               remittance_text="zorgtoeslag doorgestort"), ref="K1")
    report = services.bank_import.import_file(statement(passed_on), "bank-import").statements[0]
    assert dict(report.by_kind) == {"betalingskenmerk": 1}
    assert services.ledger.balance(household_code(a, "inkomen", "zorgtoeslag")) == M("-393.00")
    services.warnings.scan(date(2025, 5, 23))
    assert late_zorgtoeslag() == [a + 1]


def test_a_refund_from_a_creditor_is_booked_for_its_household_and_offered_back_as_leefgeld(services, exported_run):
    """S7: the energy supplier refunds a double payment of 180.00."""
    h, _, _ = exported_run
    refund = entry(0, date(2025, 6, 10), tx("180.00", counterparty_iban="NL64ABNA0417164301",
                                            counterparty_name="Energie B.V.", remittance_text="Creditering termijn juni"),
                   ref="E1")
    report = services.bank_import.import_file(statement(refund), "bank-import").statements[0]
    assert dict(report.by_kind) == {"terugbetaling-crediteur": 1}
    assert services.ledger.balance(household_code(h, "inkomen", "overig")) == M("-180.00")
    [offer] = services.warnings.list(type="terugbetaling-ontvangen")
    assert offer.household_id == h and "leefgeld" in offer.message and "Energie B.V." in offer.message


# -- (e) the work queue --------------------------------------------------------------------------------------


def test_an_unmatched_line_is_split_over_two_households_by_a_budgetbeheerder(services, two_in_deventer):
    a, b = two_in_deventer
    gift = entry(0, date(2025, 4, 3), tx("300.00", counterparty_iban="NL91ABNA0417164300",
                                         counterparty_name="Stichting Vluchtelingenwerk", remittance_text="noodfonds"),
                 ref="Q1")
    services.bank_import.import_file(statement(gift), "bank-import")
    [line] = services.bank_queue.unmatched()
    assert services.ledger.balance(UNMATCHED) == M("-300.00")

    with pytest.raises(InvalidInputError, match="add up to"):
        services.bank_queue.assign(line.id, {"parts": [{"household_id": a, "amount": "200.00"}],
                                             "note": "noodfonds"}, BEHEERDER)
    assigned = services.bank_queue.assign(line.id, {"parts": [
        {"household_id": a, "amount": "200.00", "source": "gift"},
        {"household_id": b, "amount": "100.00", "source": "gift"}], "note": "Noodfonds, per mail bevestigd"},
        BEHEERDER)
    assert assigned.status is LineStatus.ASSIGNED and assigned.assigned_by == BEHEERDER
    assert services.ledger.balance(UNMATCHED) == Money(0)
    assert services.ledger.balance(household_code(a, "basis")) == M("200.00")
    assert services.ledger.balance(household_code(b, "basis")) == M("100.00")
    assert services.bank_queue.unmatched() == []
    with pytest.raises(ConflictError, match="not in the work queue"):
        services.bank_queue.assign(line.id, {"parts": [{"household_id": a, "amount": "300.00"}],
                                             "note": "nogmaals"}, BEHEERDER)


def test_the_inrichtingskrediet_from_the_gemeente_waits_for_a_budgetbeheerder_and_is_booked_as_a_loan(
        services, two_in_deventer):
    """Deventer pays Amira's inrichtingskrediet of 2,800.00 with her kenmerk. It is no bijstand the gemeente was
    expected to pay, so it is not booked as spendable income: it waits in the queue, and the budgetbeheerder
    assigns it as the krediet — held apart on the reservering for the home, against the loan."""
    a, b = two_in_deventer
    krediet = entry(0, date(2025, 3, 4), tx("2800.00", counterparty_iban=GEMEENTE_DEVENTER,
                                            counterparty_name="Gemeente Deventer",
                                            remittance_text=f"Inrichtingskrediet {household_reference(a)}"), ref="K1")
    report = services.bank_import.import_file(statement(krediet), "bank-import").statements[0]
    assert report.unmatched == 1
    [line] = services.bank_queue.unmatched()
    assert "van de gemeente maar geen verwachte bijstand" in line.match_reason
    assert services.ledger.balance(household_code(a, "basis")) == Money(0)

    with pytest.raises(InvalidInputError, match="no source"):
        services.bank_queue.assign(line.id, {"parts": [{"household_id": a, "amount": "2800.00",
                                                        "purpose": "inrichtingskrediet", "source": "overig"}],
                                             "note": "krediet"}, BEHEERDER)
    with pytest.raises(InvalidInputError, match="for a household"):
        services.bank_queue.assign(line.id, {"parts": [{"instruction_id": 1, "amount": "2800.00",
                                                        "purpose": "inrichtingskrediet"}], "note": "krediet"}, BEHEERDER)
    services.bank_queue.assign(line.id, {"parts": [{"household_id": a, "amount": "2800.00",
                                                    "purpose": "inrichtingskrediet"}],
                               "note": "Besluit inrichtingskrediet 3 maart"}, BEHEERDER)
    assert services.ledger.balance(household_code(a, "krediet", "inrichting")) == M("-2800.00")  # owed: a credit
    assert services.ledger.balance(household_code(a, "reservering", "inrichting")) == M("2800.00")
    assert services.ledger.balance(household_code(a, "basis")) == Money(0)
    assert services.ledger.balance(UNMATCHED) == Money(0)
    [assignment] = services.bank_queue.assignments(line.id)
    assert assignment.income_source == "inrichtingskrediet" and assignment.household_id == a
    assert services.ledger.trial_balance().is_balanced


def test_the_bijstand_from_the_gemeente_is_still_matched_as_expected_income(services, two_in_deventer):
    a, _ = two_in_deventer
    bijstand = entry(0, date(2025, 4, 1), tx("1281.38", counterparty_iban=GEMEENTE_DEVENTER,
                                             remittance_text=f"Bijstand maart {household_reference(a)}"), ref="K2")
    report = services.bank_import.import_file(statement(bijstand), "bank-import").statements[0]
    assert dict(report.by_kind) == {"verwacht-inkomen": 1}
    assert services.ledger.balance(household_code(a, "basis")) == M("1281.38")


def test_a_line_left_in_the_queue_raises_a_warning_that_goes_when_it_is_assigned(services, two_in_deventer):
    a, _ = two_in_deventer
    services.bank_import.import_file(statement(entry(0, date(2025, 4, 3), tx("50.00", remittance_text="?"),
                                                     ref="Q2")), "bank-import")
    services.warnings.scan(date(2025, 4, 4))
    assert services.warnings.list(type="bankregel-niet-toegewezen") == []
    services.warnings.scan(date(2025, 4, 7))
    [warning] = services.warnings.list(type="bankregel-niet-toegewezen")
    assert warning.household_id is None and "50,00" in warning.message
    [line] = services.bank_queue.unmatched()
    services.bank_queue.assign(line.id, {"parts": [{"household_id": a, "amount": "50.00"}], "note": "van de klant"},
                               BEHEERDER)
    services.warnings.scan(date(2025, 4, 8))
    assert [w.status.value for w in services.warnings.list(type="bankregel-niet-toegewezen", status="resolved")] == [
        "resolved"]


# -- reconciliation and refusals -------------------------------------------------------------------------------


def test_a_statement_that_does_not_reconcile_raises_a_warning_stating_the_difference(services, exported_run):
    h, _, exported = exported_run
    report = services.bank_import.import_file(
        march_18(exported, opening="3500.00", closing="3060.29"), "bank-import").statements[0]
    assert not report.reconciled
    [warning] = services.warnings.list(type="bank-verschil")
    assert "3.060,29" in warning.message and "3.061,29" in warning.message and "1,00" in warning.message
    assert bank_balance(services) == M("3061.29")  # never corrected silently


@pytest.mark.parametrize("change, field", [({"iban": "NL91ABNA0417164300"}, "account"),
                                           ({"currency": "USD"}, "currency")])
def test_a_statement_for_another_account_or_currency_is_refused_and_nothing_is_imported(
        services, database, exported_run, change, field):
    h, _, exported = exported_run
    before = (count_rows(database, "journal_entries"), count_rows(database, "bank_lines"))
    with pytest.raises(InvalidInputError) as refused:
        services.bank_import.import_file(march_18(exported, **change), "bank-import")
    assert refused.value.problems[0].field == field and "nothing" in str(refused.value)
    assert (count_rows(database, "journal_entries"), count_rows(database, "bank_lines")) == before


def test_a_first_statement_before_any_household_is_imported_onto_the_bank_and_the_queue(services):
    """The organisation's bank side is opened by the import itself when nothing else has opened it yet."""
    assert services.ledger.accounts() == []
    gift = entry(0, date(2025, 3, 3), tx("25.00", counterparty_iban="NL91ABNA0417164300",
                                         remittance_text="gift voor een nieuw gezin"), ref="F1")
    report = services.bank_import.import_file(statement(gift, opening="0.00", closing="25.00"), "bank-import")
    assert report.statements[0].unmatched == 1 and report.statements[0].reconciled
    assert bank_balance(services) == M("25.00") and services.ledger.balance(UNMATCHED) == M("-25.00")


def test_pending_entries_are_not_booked(services, exported_run):
    pending = entry(0, date(2025, 3, 19), tx("12.00"), ref="P1", status=EntryStatus.PENDING)
    report = services.bank_import.import_file(statement(pending), "bank-import").statements[0]
    assert (report.lines_total, report.not_booked) == (0, 1) and bank_balance(services) == M("3500.00")


def test_the_record_of_the_bank_cannot_be_rewritten(services, database, exported_run):
    from sqlalchemy import text

    h, _, exported = exported_run
    services.bank_import.import_file(march_18(exported), "bank-import")
    for sql in ("UPDATE bank_lines SET amount_cents = 1", "DELETE FROM bank_lines",
                "UPDATE bank_statement_imports SET lines_new = 0", "UPDATE bank_lines SET household_id = NULL"):
        with pytest.raises(Exception, match="bank"), database.engine.begin() as conn:
            conn.execute(text(sql))
    assert count_rows(database, "bank_lines") == 2



def test_s18_the_bank_reports_the_may_batch_as_one_entry_of_980_which_expands_into_three_matched_lines(services):
    """S18: huur 650.00, zorgverzekering 150.00 and energie 180.00 of 1 April, paid in one file; the bank
    books them as one debit of 980.00 with three TxDtls. Then the energie payment comes back: AC04."""
    h, march, _ = s1_exported(services)
    april = services.payment_runs.start(date(2025, 4, 1), actor=BEHEERDER)
    services.payment_runs.approve(april.run_id, CHECKER)
    services.payment_runs.mark_exported(april.run_id, "MSG-RUN-2", CHECKER)
    paid = {i.category: i for i in services.payment_runs.instructions(april.run_id, "exported")}
    assert {c: str(i.amount) for c, i in paid.items()} == {"huur": "650.00", "zorgverzekering": "150.00",
                                                           "energie": "180.00"}
    batch = entry(0, date(2025, 4, 1), *(tx(str(i.amount), DBIT, end_to_end_id=i.end_to_end_id, counterparty_iban=i.iban,
                                            counterparty_name=i.payee_name) for i in paid.values()),
                  ref="BNG-20250401-0001", batch_payment_information_id=f"RUN{april.run_id}-20250401", batch_count=3)
    assert batch.amount == M("980.00") and batch.credit_debit is DBIT
    report = services.bank_import.import_file(statement(batch, sid="STMT-0401"), "bank-import").statements[0]
    assert (report.lines_new, dict(report.by_kind)) == (3, {"eigen-betaling": 3})
    assert {i.status.value for i in services.payment_runs.instructions(april.run_id) if i.iban} == {"executed"}

    energie = paid["energie"]
    back = entry(0, date(2025, 4, 3), tx("180.00", end_to_end_id=energie.end_to_end_id, return_reason="AC04",
                                         counterparty_iban=energie.iban), ref="BNG-20250403-0009")
    services.bank_import.import_file(statement(back, sid="STMT-0403"), "bank-import")
    after = {i.category: i for i in services.payment_runs.instructions(april.run_id) if i.iban}
    assert after["energie"].status is InstructionStatus.REJECTED  # executed, then returned
    assert after["energie"].executed_at is not None and "AC04" in after["energie"].rejection_reason
    [warning] = services.warnings.list(type="betaling-teruggeboekt")
    assert "Energie B.V." in warning.message and warning.details["return_reason"] == "AC04"
