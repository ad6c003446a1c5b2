"""The audit trail of the API: every write, and every read of personal data, with who, what, when and
the request id.

An ASGI middleware outside the router sees every request to /v1: it gives each a request id (the
client's `X-Request-ID` when it is sane, else a new one, echoed in the response) and, after the response,
records
- every request that is not a GET/HEAD/OPTIONS, whatever its outcome (a refused write is audited too);
- every read a handler marked as personal data with `audited_read(...)` (a household, its book, its
  leefgeld view…), with the household it was about.
The records are written after the response has been sent, in their own transaction. Under load the
requests that finish while one write is running are written together in the next one (group commit, see
`AuditWriter`): one fsync for many reads rather than one each, and each request still waits until its
own records are committed.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import anyio
from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from budget_ledger.access import AuditRecord, Principal

_SCOPE_KEY = "budget_ledger_audit"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_READS = {"GET", "HEAD", "OPTIONS"}


def audited_read(request: Request, entity: str, entity_id: object = None, household_id: int | None = None) -> None:
    """Mark this request as a read of personal data about `entity` (and the household it belongs to)."""
    _note(request, "read", entity, entity_id, household_id)


def audited_write(request: Request, entity: str, entity_id: object = None, household_id: int | None = None) -> None:
    """Name what a write was about (the entity it created or changed), for its audit record; it is recorded
    as a write whatever the HTTP method."""
    _note(request, "write", entity, entity_id, household_id)


def _note(request: Request, kind: str, entity: str, entity_id: object, household_id: int | None) -> None:
    request.scope.setdefault(_SCOPE_KEY, []).append(  # type: ignore[typeddict-item]
        (kind, entity, None if entity_id is None else str(entity_id), household_id))


def request_id_of(scope: Scope) -> str:
    return scope.get("budget_ledger_request_id", "-")  # type: ignore[return-value]


class AuditWriter:
    """Writes audit records in as few transactions as the load allows (group commit).

    A request hands its records over and waits for them to be committed. While a write is running, the
    records of other requests gather; the next write takes all of them. When a shared write fails, each
    request's records are written on their own, so one request's failure is never another's.
    """

    def __init__(self, record: Callable[[Sequence[AuditRecord]], None]) -> None:
        self._record = record
        self._pending: list[tuple[list[AuditRecord], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, records: list[AuditRecord]) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append((records, done))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._drain())
        await asyncio.shield(done)  # a client that goes away does not take its audit record with it

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await anyio.to_thread.run_sync(self._record, [r for records, _ in batch for r in records])
            except Exception:
                for records, done in batch:
                    await self._write_alone(records, done)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _write_alone(self, records: list[AuditRecord], done: asyncio.Future[None]) -> None:
        try:
            await anyio.to_thread.run_sync(self._record, records)
        except Exception as exc:
            if not done.done():
                done.set_exception(exc)
        else:
            if not done.done():
                done.set_result(None)


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope["budget_ledger_request_id"] = request_id  # type: ignore[typeddict-unknown-key]
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            records = _records(scope, request_id, status)
            if records:
                await scope["app"].state.audit_writer.write(records)


def _records(scope: Scope, request_id: str, status: int) -> list[AuditRecord]:
    principal = scope.get("user")
    if not isinstance(principal, Principal):
        return []  # not authenticated: nothing was done or read
    method = scope["method"]
    action = f"{method} {scope['path']}"
    if scope.get("query_string"):
        action += "?" + scope["query_string"].decode("latin-1")[:200]
    notes: list[tuple[str, str, str | None, int | None]] = scope.get(_SCOPE_KEY, [])  # type: ignore[assignment]
    by_method = "read" if method in _READS else "write"
    if by_method == "read" and not notes:
        return []
    if not notes:
        parts = [p for p in scope["path"].split("/") if p]
        notes = [("write", parts[1] if len(parts) > 1 else "api", parts[2] if len(parts) > 2 else None, None)]
    at = datetime.now(UTC)
    return [AuditRecord(at=at, request_id=request_id, actor=principal.actor, role=principal.role.value,
                        kind="write" if "write" in (kind, by_method) else "read", action=action, entity=entity,
                        entity_id=entity_id, household_id=household_id, status_code=status)
            for kind, entity, entity_id, household_id in notes]


def principal_of(request: Request[Any, Any, Any]) -> Principal:
    principal = request.user
    assert isinstance(principal, Principal)
    return principal
