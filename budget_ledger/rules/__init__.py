"""Pure rule functions: (household snapshot, rule profile, period) -> plan. Imports only budget_ledger.ledger.

Filled by the rules-engine issue; empty until then.
"""
