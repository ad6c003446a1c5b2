"""The book: manual entries and reversals (budgetbeheerder), an entry, a household's entries and balances
(everyone, a begeleider within their caseload), the organisation's balances and trial balance (readers),
and the ledger/hledger journal as plain text (a household's, or the whole book's for readers).

Every posting goes through `LedgerService` (budget_ledger/posting.py): a manual entry carries an
idempotency key, so a client that retries gets the entry it posted the first time (200, `replayed`)
instead of a second one. The journal is written by the same code as `budget-ledger export`
(adapters/export/ledger_journal.py) from one read-only snapshot of the book; it is spooled (to disk when
large) before the first byte is sent, so the snapshot is not held open while a slow client reads and a
refusal is still a problem response.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from budget_ledger.access import Principal, Role
from budget_ledger.adapters.export.ledger_journal import write_journal
from budget_ledger.adapters.http.audit import audited_read, audited_write, principal_of
from budget_ledger.adapters.http.auth import BEHEER, EVERYONE, READERS
from budget_ledger.adapters.http.pagination import LIMIT, OFFSET, Page, page_of
from budget_ledger.adapters.http.types import MAX_ID, Amount, Id
from budget_ledger.clock import AMSTERDAM
from budget_ledger.errors import InvalidInputError, NotFoundError
from budget_ledger.inputs import MoneyInput
from budget_ledger.ledger.accounts import Account, AccountCodeError, validate_code
from budget_ledger.ledger.entries import MAX_KEY_LENGTH, EntryRequest, EntrySource, PostedEntry, Posting
from budget_ledger.ledger.money import Money
from budget_ledger.services import Services
from budget_ledger.settings import Settings

_HOUSEHOLD_ACCOUNT = re.compile(r"^huishouden:(\d+):")
SPOOL_IN_MEMORY = 8 * 1024 * 1024
"""A journal larger than this is spooled to a temporary file before it is sent."""
CHUNK = 64 * 1024

FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
"""The days a date from outside may name: beyond them the calendar arithmetic of the book and the rules
(the eve of a day, months ahead) would leave the calendar; no household's money is dated there."""


def _in_range(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must lie between {FIRST_DAY} and {LAST_DAY}")
    return value


Day = Annotated[date, AfterValidator(_in_range)]
"""A date in a body, within FIRST_DAY and LAST_DAY."""

DATE_FROM = QueryParameter(name="from", description="first booking date (opening balances are carried in)")
DATE_TO = QueryParameter(name="to", description="last booking date")
AS_OF = QueryParameter(name="as_of", description="balances at the end of this booking date (default: now)")


# -- bodies ----------------------------------------------------------------------------------------------


class PostingInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    account: str = Field(min_length=1, max_length=200, description="an account code, e.g. huishouden:17:basis")
    amount: MoneyInput = Field(description="debit positive, credit negative; a decimal string, never zero")

    @field_validator("account")
    @classmethod
    def _code(cls, value: str) -> str:
        try:
            return validate_code(value)
        except AccountCodeError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("amount")
    @classmethod
    def _not_zero(cls, value: Money) -> Money:
        if value.cents == 0:
            raise ValueError("a posting of 0.00 moves nothing")
        return value


class ManualEntry(BaseModel):
    """A correction or manual booking by a budgetbeheerder. The postings must balance (debits positive)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    idempotency_key: str = Field(min_length=1, max_length=MAX_KEY_LENGTH,
                                 description="the client's key: the same key and postings again answer the same entry")
    booking_date: Day
    value_date: Day | None = None
    reason: str = Field(min_length=1, max_length=500, description="why, in words a person can read")
    household_id: int | None = Field(default=None, ge=1, le=MAX_ID, strict=True,
                                     description="the household the entry is about; required when it touches one")
    postings: list[PostingInput] = Field(min_length=2, max_length=50)

    @field_validator("postings")
    @classmethod
    def _one_household(cls, postings: list[PostingInput], info: Any) -> list[PostingInput]:
        household_id = info.data.get("household_id")
        for number, posting in enumerate(postings):
            found = _HOUSEHOLD_ACCOUNT.match(posting.account)
            if found is None:
                continue
            if household_id is None:
                raise ValueError(f"posting {number + 1} is on {posting.account}: name that household in household_id")
            if int(found.group(1)) != household_id:
                raise ValueError(f"posting {number + 1} is on {posting.account}, an account of another household "
                                 f"than {household_id}")
        return postings


class ReverseEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    reason: str = Field(min_length=3, max_length=500, description="why the entry is undone")
    booking_date: Day | None = Field(default=None, description="default: today (Europe/Amsterdam)")
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=MAX_KEY_LENGTH,
                                        description="default: reversal:<entry id>")


# -- responses -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostingView:
    account: str
    amount: Amount
    """Debit positive."""


@dataclass(frozen=True)
class EntryView:
    id: int
    idempotency_key: str
    booking_date: date
    value_date: date
    reason: str
    actor: str
    source: str
    rule: str | None
    household_id: int | None
    reverses_entry_id: int | None
    postings: list[PostingView]
    replayed: bool
    """True when this answer is the entry posted earlier under the same key (nothing new was posted)."""

    @classmethod
    def of(cls, e: PostedEntry) -> EntryView:
        return cls(e.id, e.idempotency_key, e.booking_date, e.value_date, e.reason, e.actor, e.source.value, e.rule,
                   e.household_id, e.reverses_entry_id, [PostingView(p.account, str(p.amount)) for p in e.postings],
                   e.replayed)


@dataclass(frozen=True)
class AccountBalance:
    code: str
    name: str
    full_name: str
    """As in the journal and the balances CSV, e.g. assets:huishouden:17:basis."""
    type: str
    household_id: int | None
    no_overdraft: bool
    balance: Amount
    """Debit positive."""
    normal_balance: Amount
    """Seen from the account's normal side: what the client has, what is owed."""

    @classmethod
    def of(cls, account: Account, balance: Money) -> AccountBalance:
        return cls(account.code, account.name, account.full_name, account.type.value, account.household_id,
                   account.no_overdraft, str(balance), str(balance * account.type.normal_sign))


@dataclass(frozen=True)
class BalanceMismatchView:
    account: str
    stored: Amount
    postings: Amount


@dataclass(frozen=True)
class TrialBalanceView:
    as_of: date | None
    accounts: int
    debits: Amount
    credits: Amount
    total: Amount
    balanced: bool
    mismatches: list[BalanceMismatchView] | None
    """With `verify`: accounts whose stored balance differs from the sum of their postings (should be none)."""


# -- helpers ---------------------------------------------------------------------------------------------


def require_household(services: Services, principal: Principal, household_id: int) -> None:
    """404 for a begeleider outside their caseload, and for a household that does not exist."""
    services.access.require_visible(principal, household_id)
    services.households.get(household_id)


def households_of(entry: PostedEntry) -> set[int]:
    found = {entry.household_id} if entry.household_id is not None else set()
    for posting in entry.postings:
        match = _HOUSEHOLD_ACCOUNT.match(posting.account)
        if match:
            found.add(int(match.group(1)))
    return found


def checked_day(value: date | None, field: str) -> date | None:
    if value is not None and not FIRST_DAY <= value <= LAST_DAY:
        raise InvalidInputError(field, f"must lie between {FIRST_DAY} and {LAST_DAY}, not {value}")
    return value


def checked_period(date_from: date | None, date_to: date | None) -> None:
    checked_day(date_from, "from")
    checked_day(date_to, "to")
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidInputError("from", f"the period starts on {date_from}, after it ends on {date_to}")


def today(request: Request) -> date:
    clock = request.app.state.clock
    now: datetime = clock()
    return now.astimezone(AMSTERDAM).date()


def spooled_journal(services: Services, organisation: str, household_id: int | None, date_from: date | None,
                    date_to: date | None) -> IO[bytes]:
    """The journal written from one snapshot into a spooled file, rewound; NotFoundError for a household
    without accounts."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, mode="w+b")
    try:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        with services.ledger.extract(household_id=household_id, date_from=date_from, date_to=date_to) as extract:
            if household_id is not None and not extract.scope:
                raise NotFoundError(f"household {household_id} has no accounts", field="household_id")
            write_journal(extract, text, organisation=organisation)
        text.flush()
        text.detach()
        spool.seek(0)
        return spool
    except BaseException:
        spool.close()
        raise


def chunks_of(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


def journal_response(spool: IO[bytes], name: str) -> Stream:
    return Stream(chunks_of(spool), media_type="text/plain; charset=utf-8",
                  headers={"Content-Disposition": f'attachment; filename="{name}.journal"'})


def journal_name(scope: str, date_from: date | None, date_to: date | None) -> str:
    return "-".join(["budget_ledger", scope, *(d.isoformat() for d in (date_from, date_to) if d is not None)])


# -- the routes ------------------------------------------------------------------------------------------


class LedgerController(Controller):
    path = "/"
    tags = ["ledger"]

    @post("/ledger/entries", guards=[BEHEER], sync_to_thread=True,
          summary="Post a manual entry (idempotent: the same key again answers the same entry)")
    def post_entry(self, request: Request, services: NamedDependency[Services],
                   data: JSONBody[ManualEntry]) -> Response[EntryView]:
        principal = principal_of(request)
        entry = services.ledger.post(EntryRequest(
            idempotency_key=data.idempotency_key, booking_date=data.booking_date, value_date=data.value_date,
            postings=tuple(Posting(p.account, p.amount) for p in data.postings), reason=data.reason,
            actor=principal.actor, source=EntrySource.MANUAL, household_id=data.household_id))
        audited_write(request, "entry", entry.id, data.household_id)
        return Response(EntryView.of(entry), status_code=HTTP_200_OK if entry.replayed else HTTP_201_CREATED)

    @post("/ledger/entries/{entry_id:int}/reversal", guards=[BEHEER], sync_to_thread=True,
          summary="Reverse an entry: post its postings with opposite signs (once)")
    def reverse(self, request: Request, services: NamedDependency[Services], entry_id: Id,
                data: JSONBody[ReverseEntry]) -> Response[EntryView]:
        principal = principal_of(request)
        reversal = services.ledger.reverse(entry_id, actor=principal.actor, reason=data.reason,
                                           booking_date=data.booking_date or today(request),
                                           idempotency_key=data.idempotency_key)
        audited_write(request, "entry", reversal.id, reversal.household_id)
        return Response(EntryView.of(reversal), status_code=HTTP_200_OK if reversal.replayed else HTTP_201_CREATED)

    @get("/ledger/entries/{entry_id:int}", guards=[EVERYONE], sync_to_thread=True, summary="One entry")
    def entry(self, request: Request, services: NamedDependency[Services], entry_id: Id) -> EntryView:
        principal = principal_of(request)
        entry = services.ledger.get_entry(entry_id)
        households = households_of(entry)
        if principal.role is Role.BEGELEIDER:
            if not households:  # the organisation's own bookings are not a begeleider's to see
                raise NotFoundError(f"there is no posted entry {entry_id}", field="entry_id")
            for household_id in sorted(households):
                services.access.require_visible(principal, household_id)
        for household_id in sorted(households) or [None]:
            audited_read(request, "entry", entry_id, household_id)
        return EntryView.of(entry)

    @get("/households/{household_id:int}/entries", guards=[EVERYONE], sync_to_thread=True,
         summary="A household's entries (those touching its accounts), in booking order")
    def household_entries(self, request: Request, services: NamedDependency[Services],
                          household_id: Id, date_from: Annotated[date | None, DATE_FROM] = None,
                          date_to: Annotated[date | None, DATE_TO] = None, limit: Annotated[int, LIMIT] = 50,
                          offset: Annotated[int, OFFSET] = 0) -> Page[EntryView]:
        require_household(services, principal_of(request), household_id)
        checked_period(date_from, date_to)
        audited_read(request, "entries", None, household_id)
        with services.ledger.extract(household_id=household_id, date_from=date_from, date_to=date_to) as extract:
            entries = [EntryView.of(e) for e in extract.entries]
        return page_of(entries, limit, offset)

    @get("/households/{household_id:int}/balances", guards=[EVERYONE], sync_to_thread=True,
         summary="A household's accounts with their balances")
    def household_balances(self, request: Request, services: NamedDependency[Services],
                           household_id: Id, as_of: Annotated[date | None, AS_OF] = None,
                           limit: Annotated[int, LIMIT] = 50, offset: Annotated[int, OFFSET] = 0
                           ) -> Page[AccountBalance]:
        require_household(services, principal_of(request), household_id)
        audited_read(request, "balances", None, household_id)
        rows = services.ledger.balances(as_of=checked_day(as_of, "as_of"), household_id=household_id)
        return page_of([AccountBalance.of(a, b) for a, b in sorted(rows, key=lambda r: r[0].code)], limit, offset)

    @get("/households/{household_id:int}/journal", guards=[EVERYONE], sync_to_thread=True,
         media_type="text/plain", summary="A household's entries as a ledger/hledger journal")
    def household_journal(self, request: Request, services: NamedDependency[Services],
                          settings: NamedDependency[Settings],
                          household_id: Id, date_from: Annotated[date | None, DATE_FROM] = None,
                          date_to: Annotated[date | None, DATE_TO] = None) -> Stream:
        require_household(services, principal_of(request), household_id)
        checked_period(date_from, date_to)
        audited_read(request, "journal", None, household_id)
        spool = spooled_journal(services, settings.organisation_name, household_id, date_from, date_to)
        return journal_response(spool, journal_name(f"huishouden-{household_id}", date_from, date_to))

    @get("/ledger/journal", guards=[READERS], sync_to_thread=True, media_type="text/plain",
         summary="The whole book as a ledger/hledger journal, for auditors")
    def journal(self, request: Request, services: NamedDependency[Services], settings: NamedDependency[Settings],
                date_from: Annotated[date | None, DATE_FROM] = None,
                date_to: Annotated[date | None, DATE_TO] = None) -> Stream:
        checked_period(date_from, date_to)
        audited_read(request, "journal")
        spool = spooled_journal(services, settings.organisation_name, None, date_from, date_to)
        return journal_response(spool, journal_name("boek", date_from, date_to))

    @get("/ledger/balances", guards=[READERS], sync_to_thread=True,
         summary="Balances of the organisation's accounts, or of every account")
    def balances(self, services: NamedDependency[Services], as_of: Annotated[date | None, AS_OF] = None,
                 which: Annotated[Literal["organisation", "all"], QueryParameter(
                     name="scope", description="organisation: the bank side and clientgelden; all: every household's too")
                 ] = "organisation",
                 limit: Annotated[int, LIMIT] = 50, offset: Annotated[int, OFFSET] = 0) -> Page[AccountBalance]:
        rows = services.ledger.balances(as_of=checked_day(as_of, "as_of"))
        chosen = [AccountBalance.of(a, b) for a, b in sorted(rows, key=lambda r: r[0].full_name)
                  if which == "all" or a.household_id is None]
        return page_of(chosen, limit, offset)

    @get("/ledger/trial-balance", guards=[READERS], sync_to_thread=True,
         summary="The trial balance: debits equal credits; with verify, stored balances against postings")
    def trial_balance(self, services: NamedDependency[Services], as_of: Annotated[date | None, AS_OF] = None,
                      verify: Annotated[bool, QueryParameter(
                          description="also compare every stored balance with the sum of its postings")] = False
                      ) -> TrialBalanceView:
        trial = services.ledger.trial_balance(as_of=checked_day(as_of, "as_of"))
        mismatches = None
        if verify:
            mismatches = [BalanceMismatchView(m.account_code, str(Money(m.stored_cents)), str(Money(m.computed_cents)))
                          for m in services.ledger.balance_mismatches()]
        return TrialBalanceView(as_of, len(trial.balances), str(trial.debits), str(trial.credits), str(trial.total),
                                trial.is_balanced, mismatches)


ROUTES = [LedgerController]
