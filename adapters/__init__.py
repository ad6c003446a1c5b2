"""Edges of the system: database, HTTP, bank files, plain-text export, CLI.

Installed as `budget_ledger.adapters` (see pyproject.toml) so it never collides with the PyPI package
`adapters`. Adapters may import the service layer and the ledger core; never the other way round.
"""
