"""Rule profiles read from config/profiles/*.toml: one file per gemeente or uitvoeringsorganisatie.

The models live in budget_ledger.rules.profiles (pure); reading files is an edge, so it lives here.
"""

from budget_ledger.adapters.profiles.loader import ProfileError, load_profile, load_profiles

__all__ = ["ProfileError", "load_profile", "load_profiles"]
