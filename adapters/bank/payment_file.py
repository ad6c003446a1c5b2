"""From an approved payment run to a pain.001 batch: one PaymentInfo per requested execution date.

Only instructions with an IBAN can be in a bank file; leefgeld to a client without a known own account
stays approved and out of the file (the payment-run report warns about it). The payee's address is the one
stored on the instruction, as it was when the run made it, written as a structured PstlAdr.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from budget_ledger.adapters.bank.pain001 import (
    CreditTransfer,
    Party,
    PaymentBatch,
    PaymentInfo,
    PostalAddress,
)
from budget_ledger.addresses import PostalAddress as StoredAddress
from budget_ledger.identifiers import parse_iban
from budget_ledger.payment_runs import PaymentInstruction

REFERENCE_KINDS = {"betalingskenmerk": "betalingskenmerk", "rf": "rf"}


def batch_for(run_id: int, instructions: list[PaymentInstruction], *, organisation: str, debtor_iban: str,
              created_at: datetime) -> PaymentBatch:
    debtor = parse_iban(debtor_iban)
    by_date: dict = defaultdict(list)
    for instruction in instructions:
        if not instruction.iban:
            continue
        by_date[instruction.execution_date].append(CreditTransfer(
            end_to_end_id=instruction.end_to_end_id,
            amount=instruction.amount,
            creditor=Party(name=instruction.payee_name, iban=instruction.iban, bic=instruction.bic,
                           address=_address(instruction.payee_address)),
            reference_kind=REFERENCE_KINDS.get(instruction.reference_kind, "vrij"),
            reference=instruction.reference,
        ))
    stamp = created_at.strftime("%Y%m%d%H%M%S")
    payments = tuple(
        PaymentInfo(payment_info_id=f"RUN{run_id}-{day:%Y%m%d}", requested_execution_date=day,
                    transfers=tuple(transfers))
        for day, transfers in sorted(by_date.items())
    )
    return PaymentBatch(message_id=f"BL-RUN{run_id}-{stamp}", created_at=created_at, initiating_party=organisation,
                        debtor=Party(name=organisation, iban=debtor.iban, bic=debtor.bic), payments=payments)


def _address(stored: StoredAddress | None) -> PostalAddress | None:
    if stored is None:
        return None
    return PostalAddress(town=stored.town, country=stored.country, street=stored.street_name,
                         building_number=stored.building_number, postcode=stored.postcode)
