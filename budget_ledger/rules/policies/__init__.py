"""The policies the engine runs. Each module is one policy of issue 4; adding a policy means adding a
class here, not changing the engine.

Order matters in two places only: `afbouw` comes first because it fixes the hand-over dates the bills
are paid by, and among the funders the reservering (for one-off bills) is asked before the krediet.
"""

from __future__ import annotations

from budget_ledger.rules.engine import Policy
from budget_ledger.rules.policies.afbouw import Afbouw
from budget_ledger.rules.policies.eerste_huur_gift import EersteHuurGift
from budget_ledger.rules.policies.krediet_aflossing import KredietAflossing
from budget_ledger.rules.policies.krediet_overbrugging import KredietOverbrugging
from budget_ledger.rules.policies.leefgeld import Leefgeld
from budget_ledger.rules.policies.reserveringen import Reserveringen
from budget_ledger.rules.policies.tekort import Tekort
from budget_ledger.rules.policies.toeslag_voorschot import ToeslagVoorschot
from budget_ledger.rules.policies.vaste_lasten import VasteLasten


def default_policies() -> list[Policy]:
    return [Afbouw(), EersteHuurGift(), ToeslagVoorschot(), Tekort(), VasteLasten(), Reserveringen(),
            KredietOverbrugging(), KredietAflossing(), Leefgeld()]


__all__ = ["default_policies"]
