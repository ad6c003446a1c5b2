"""The audit trail under load: requests that finish together are written together, and none is lost.

Fifty begeleiders reading at once would otherwise queue fifty transactions (and fifty fsyncs) for their
audit records; the writer takes whatever gathered while the last write ran. Each request still waits
until its own records are committed, and a record that cannot be written fails only its own request.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

from budget_ledger.access import AuditRecord
from budget_ledger.adapters.http.audit import AuditWriter


def record(n: int, actor: str = "mb.sara") -> AuditRecord:
    return AuditRecord(at=datetime(2025, 6, 2, 9, 0, tzinfo=UTC), request_id=f"req-{n}", actor=actor,
                       role="begeleider", kind="read", action="GET /v1/begeleider/households/1/leefgeld",
                       entity="leefgeld", entity_id="1", household_id=1, status_code=200)


class SlowBook:
    """Stands in for AccessService.record: remembers each transaction's records; a write takes 20 ms."""

    def __init__(self, refuse_actor: str | None = None) -> None:
        self.transactions: list[list[str]] = []
        self.refuse_actor = refuse_actor
        self.lock = threading.Lock()

    def record(self, records) -> None:
        time.sleep(0.02)
        if any(r.actor == self.refuse_actor for r in records):
            raise RuntimeError("the audit log refused the record")
        with self.lock:
            self.transactions.append([r.request_id for r in records])


def test_fifty_reads_at_once_are_written_in_a_few_transactions_and_every_record_is_there():
    book = SlowBook()
    writer = AuditWriter(book.record)

    async def fifty() -> None:
        await asyncio.gather(*(writer.write([record(n)]) for n in range(50)))

    asyncio.run(fifty())
    written = [request_id for transaction in book.transactions for request_id in transaction]
    assert sorted(written) == sorted(f"req-{n}" for n in range(50))
    assert len(book.transactions) <= 3  # the first alone, then what gathered meanwhile


def test_a_request_whose_record_cannot_be_written_fails_alone():
    book = SlowBook(refuse_actor="mallory")
    writer = AuditWriter(book.record)

    async def mixed() -> list[object]:
        return await asyncio.gather(writer.write([record(0)]), writer.write([record(1, actor="mallory")]),
                                    writer.write([record(2)]), writer.write([record(3)]), return_exceptions=True)

    outcomes = asyncio.run(mixed())
    assert outcomes[0] is None and outcomes[2] is None and outcomes[3] is None
    assert isinstance(outcomes[1], RuntimeError)
    written = sorted(request_id for transaction in book.transactions for request_id in transaction)
    assert written == ["req-0", "req-2", "req-3"]


def test_one_request_alone_is_written_at_once():
    book = SlowBook()
    writer = AuditWriter(book.record)
    asyncio.run(writer.write([record(7), record(8)]))
    assert book.transactions == [["req-7", "req-8"]]


def test_the_writer_serves_one_event_loop_after_another():
    """The test client (and a restarted worker) runs requests on a new event loop: nothing is left behind."""
    book = SlowBook()
    writer = AuditWriter(book.record)
    for n in range(3):
        asyncio.run(writer.write([record(n)]))
    assert book.transactions == [[f"req-{n}"] for n in range(3)]
