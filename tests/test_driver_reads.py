"""Reads and the seal through the driver give what SQLAlchemy's own execution gives, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, insert, select, update

from budget_ledger.adapters.db.bootstrap import transactions
from budget_ledger.adapters.db.driver_reads import driver_execute, driver_parts
from budget_ledger.adapters.db.models import accounts

# Module-level, as driver_parts asks: the expansion is remembered per statement and list length.
_BY_CODE = (select(accounts.c.code, accounts.c.balance_cents)
            .where(accounts.c.code.in_(bindparam("codes", expanding=True)), accounts.c.type == "asset")
            .order_by(accounts.c.code))
_MOVE = update(accounts).where(accounts.c.code.in_(bindparam("codes", expanding=True))).values(balance_cents=7)


def test_lists_of_every_length_read_what_sqlalchemy_reads_and_the_statement_keeps_its_own_values(database):
    codes = [f"huishouden:{i}:basis" for i in range(1, 8)]

    def work(uow):
        conn = uow.ledger.conn
        now = datetime(2025, 6, 2, tzinfo=UTC)
        conn.execute(insert(accounts), [
            {"code": code, "name": code, "type": "asset" if i % 3 else "liability", "household_id": None,
             "no_overdraft": False, "balance_cents": i, "created_at": now} for i, code in enumerate(codes)])
        seen = []
        for wanted in (codes[:1], codes[:3], codes, codes[:1], codes[2:5]):  # lengths met again, and new ones
            by_driver = [row for part in driver_parts(conn, _BY_CODE, {"codes": wanted}, 2) for row in part]
            by_sqlalchemy = [tuple(row) for row in conn.execute(_BY_CODE, {"codes": wanted})]
            assert by_driver == by_sqlalchemy
            seen.append(len(by_driver))
        driver_execute(conn, _MOVE, {"codes": codes[:2]})
        moved = dict(conn.execute(select(accounts.c.code, accounts.c.balance_cents)
                                  .where(accounts.c.code.in_(codes))).all())
        return seen, moved

    seen, moved = transactions(database).run(work)
    assert seen == [0, 2, 4, 0, 2]  # 'asset' (the statement's own value) filters: codes 1, 2, 4, 5 are assets
    assert moved[codes[0]] == moved[codes[1]] == 7 and moved[codes[2]] == 2
