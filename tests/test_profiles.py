"""Rule profiles: the shipped files load and say what the seeds say each gemeente does, and a file with a
mistake is refused with a message naming the file and the key, never loaded with a default in its place."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from budget_ledger.adapters.profiles import ProfileError, load_profile, load_profiles
from budget_ledger.creditors import CreditorCategory
from budget_ledger.errors import InvalidInputError
from budget_ledger.expected_income import TOESLAGEN
from budget_ledger.ledger import Money
from budget_ledger.rules.profiles import (
    CostCategory,
    GiftPortion,
    LeefgeldPolicy,
    NoVersionInForceError,
    Profile,
    Regime,
    Toeslag,
    regime_categories,
)

PROFILES_DIR = Path(__file__).resolve().parent.parent / "config" / "profiles"
SHIPPED = {"wet-standaard", "westfriesland", "roermond", "deventer", "aalten", "doetinchem", "tilburg"}
LAW = {CostCategory.HUUR, CostCategory.ZORGVERZEKERING, CostCategory.ENERGIE, CostCategory.GAS, CostCategory.WATER,
       CostCategory.STADSVERWARMING}


@pytest.fixture(scope="module")
def profiles() -> dict[str, Profile]:
    return load_profiles(PROFILES_DIR)


def current(profiles: dict[str, Profile], name: str):
    return profiles[name].version_on(date(2025, 3, 15))


# -- the shipped profiles ----------------------------------------------------------------------------


def test_exactly_the_shipped_profiles_load_by_their_file_names(profiles):
    assert set(profiles) == SHIPPED
    assert {path.stem for path in PROFILES_DIR.glob("*.toml")} == SHIPPED


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_shipped_profile_loads_on_its_own_and_cites_its_sources(name):
    path = PROFILES_DIR / f"{name}.toml"
    profile = load_profile(path)
    assert profile.name == name
    assert profile.versions[0].valid_from == date(2022, 1, 1)  # Wi2021 in force (001:L594)
    # every setting is argued from a seed line: at least one "001:L1193"-style reference per file
    assert re.search(r"\b00[0-4]:L\d+", path.read_text(encoding="utf-8"))


def test_westfriesland_withholds_everything_until_2023_then_only_huur_and_zorg(profiles):
    westfriesland = profiles["westfriesland"]
    before = westfriesland.version_on(date(2022, 12, 31))
    after = westfriesland.version_on(date(2023, 1, 1))
    assert before.regime is Regime.VOLLEDIG
    assert after.regime is Regime.HUUR_ZORG
    assert after.withheld_categories() == {CostCategory.HUUR, CostCategory.ZORGVERZEKERING}
    assert westfriesland.version_on(date(2030, 6, 1)) is after
    assert len(westfriesland.gemeenten) == 7


def test_aalten_lets_the_krediet_pay_leefgeld_and_doetinchem_does_not(profiles):
    aalten = current(profiles, "aalten").inrichtingskrediet_overbrugging
    doetinchem = current(profiles, "doetinchem").inrichtingskrediet_overbrugging
    assert aalten.enabled and aalten.leefgeld_allowed
    assert not doetinchem.leefgeld_allowed
    assert not doetinchem.enabled  # 001:L2106: "mag niet voor iets anders gebruikt worden"


def test_tilburg_does_no_technical_ontzorging(profiles):
    tilburg = current(profiles, "tilburg")
    assert tilburg.regime is Regime.GEEN
    assert tilburg.withheld_categories() == frozenset()
    assert tilburg.reason and "incasso" in tilburg.reason
    assert not any(policy.enabled for policy in (
        tilburg.eerste_huur_gift, tilburg.inrichtingskrediet_overbrugging, tilburg.toeslag_voorschot,
        tilburg.afbouw, tilburg.krediet_aflossing))


def test_roermond_gives_the_first_rent_and_bridges_with_the_krediet_until_toeslagen_come(profiles):
    roermond = current(profiles, "roermond")
    assert roermond.regime is Regime.VOLLEDIG
    assert roermond.eerste_huur_gift.enabled
    assert roermond.eerste_huur_gift.portion is GiftPortion.PRO_RATA_FROM_START
    assert roermond.inrichtingskrediet_overbrugging.enabled
    assert roermond.inrichtingskrediet_overbrugging.max_months is None
    assert not roermond.toeslag_voorschot.enabled


def test_deventer_pays_the_first_month_from_the_krediet_and_advances_toeslagen_without_one(profiles):
    deventer = current(profiles, "deventer")
    assert deventer.regime is Regime.VOLLEDIG  # "de vijf betalingen" (001:L2589)
    bridge = deventer.inrichtingskrediet_overbrugging
    assert bridge.enabled and bridge.max_months == 1
    voorschot = deventer.toeslag_voorschot
    assert voorschot.enabled
    assert set(voorschot.toeslagen) == {Toeslag.ZORGTOESLAG, Toeslag.HUURTOESLAG}
    assert voorschot.only_without_krediet and voorschot.repay_only_from_back_payment
    assert not deventer.eerste_huur_gift.enabled


def test_wet_standaard_is_the_law_and_nothing_on_top(profiles):
    standaard = current(profiles, "wet-standaard")
    assert standaard.withheld_categories() == LAW
    assert not standaard.eerste_huur_gift.enabled
    assert not standaard.inrichtingskrediet_overbrugging.enabled
    assert not standaard.toeslag_voorschot.enabled


def test_bvfo_reserves_for_the_eigen_risico_from_month_three(profiles):
    for name in ("aalten", "doetinchem"):
        (reservering,) = current(profiles, name).reserveringen
        assert (reservering.name, reservering.amount_per_month, reservering.from_month) == (
            "eigen-risico", Money(3200), 3)


def test_staged_afbouw_moves_energie_a_month_early_and_the_rest_at_the_end(profiles):
    afbouw = current(profiles, "roermond").afbouw
    assert afbouw.months_before_end(CostCategory.ENERGIE) == 1
    assert afbouw.months_before_end(CostCategory.ZORGVERZEKERING) == 0
    assert afbouw.months_before_end(CostCategory.HUUR) == 0


# -- the model ---------------------------------------------------------------------------------------


def test_the_default_leefgeld_floor_is_45_a_week_plus_11_per_extra_member():
    floor = LeefgeldPolicy()
    assert floor.weekly_floor(1) == Money(4500)
    assert floor.weekly_floor(2) == Money(5600)
    assert floor.weekly_floor(4) == Money(7800)
    assert floor.monthly_floor(2) == Money(24267)  # 56 × 52 / 12 = 242.666…, rounded up (S3: ≈ €243)
    with pytest.raises(ValueError):
        floor.weekly_floor(0)


def test_regimes_withhold_the_laws_costs_huur_and_zorg_or_nothing():
    assert regime_categories(Regime.VOLLEDIG) == LAW
    assert CostCategory.GEMEENTELIJKE_BELASTINGEN not in regime_categories(Regime.VOLLEDIG)
    assert regime_categories(Regime.HUUR_ZORG) == {CostCategory.HUUR, CostCategory.ZORGVERZEKERING}
    assert regime_categories(Regime.GEEN) == frozenset()


def test_creditors_and_profiles_share_one_list_of_cost_categories():
    assert CreditorCategory is CostCategory


def test_toeslagen_are_the_expected_income_toeslagen():
    assert {t.value for t in Toeslag} == {source.value for source in TOESLAGEN}


def test_the_shortfall_order_pays_huur_first_and_unlisted_categories_last(profiles):
    tekort = current(profiles, "wet-standaard").tekort
    assert tekort.rank(CostCategory.HUUR) == 0
    assert tekort.rank(CostCategory.ZORGVERZEKERING) == 1
    assert tekort.rank(CostCategory.OVERIG) == tekort.rank(CostCategory.GEMEENTELIJKE_BELASTINGEN) == 6


def test_no_version_is_in_force_before_the_first(profiles):
    with pytest.raises(NoVersionInForceError, match="westfriesland.*2022-01-01"):
        profiles["westfriesland"].version_on(date(2021, 12, 31))


# -- refused files -----------------------------------------------------------------------------------

BASE = """\
name = "{name}"
title = "Proefgemeente"

[[versions]]
valid_from = 2022-01-01
regime = "volledig"

[versions.inrichtingskrediet_overbrugging]
enabled = true
leefgeld_allowed = false

[versions.leefgeld]
frequency = "monthly"
mode = "remainder"
floor_per_week = "45.00"

[versions.afbouw]
enabled = true
steps = [{{ category = "energie", months_before_end = 1 }}]

[[versions.reserveringen]]
name = "eigen-risico"
amount_per_month = "32.00"
from_month = 3

[[versions]]
valid_from = 2023-01-01
regime = "huur_zorg"
"""


def write(tmp_path: Path, name: str, text: str | None = None, **replace: str) -> Path:
    text = BASE.format(name=name) if text is None else text
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refusal(path: Path) -> ProfileError:
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    return caught.value


def test_the_base_of_the_refusal_tests_is_itself_valid(tmp_path):
    profile = load_profile(write(tmp_path, "proef"))
    assert [v.regime for v in profile.versions] == [Regime.VOLLEDIG, Regime.HUUR_ZORG]


# Each case: the file's name, (text to replace, replacement), the dotted key and a word of the reason.
REFUSED = {
    "misspelt-key": (('floor_per_week = "45.00"', 'flor_per_week = "45.00"'),
                     "versions.0.leefgeld.flor_per_week", "did you mean 'floor_per_week'"),
    "misspelt-table": (("[versions.leefgeld]", "[versions.leefgled]"), "versions.0.leefgled", "did you mean 'leefgeld'"),
    "float-amount": (('floor_per_week = "45.00"', "floor_per_week = 45.0"),
                     "versions.0.leefgeld.floor_per_week", "decimal string such as '650.00'"),
    "integer-amount": (('amount_per_month = "32.00"', "amount_per_month = 32"),
                       "versions.0.reserveringen.0.amount_per_month", "decimal string"),
    "three-decimals": (('floor_per_week = "45.00"', 'floor_per_week = "45.001"'),
                       "versions.0.leefgeld.floor_per_week", "two decimals"),
    "bad-regime": (('regime = "volledig"', 'regime = "volleedig"'), "versions.0.regime", "'huur_zorg'"),
    "bad-frequency": (('frequency = "monthly"', 'frequency = "maandelijks"'), "versions.0.leefgeld.frequency",
                      "'weekly' or 'monthly'"),
    "bad-category": (('category = "energie"', 'category = "stroom"'), "versions.0.afbouw.steps.0.category",
                     "'energie'"),
    "string-flag": (("leefgeld_allowed = false", 'leefgeld_allowed = "no"'),
                    "versions.0.inrichtingskrediet_overbrugging.leefgeld_allowed", "boolean"),
    "out-of-order": (("valid_from = 2023-01-01", "valid_from = 2021-06-01"), "versions", "oldest first"),
    "same-date": (("valid_from = 2023-01-01", "valid_from = 2022-01-01"), "versions", "one version per date"),
    "datetime": (("valid_from = 2022-01-01", "valid_from = 2022-01-01T00:00:00"), "versions.0.valid_from",
                 "valid date"),
    "weekly-without-day": (('frequency = "monthly"', 'frequency = "weekly"'), "versions.0.leefgeld.weekday",
                           "needs a weekday"),
    "fixed-without-amount": (('mode = "remainder"', 'mode = "fixed"'), "versions.0.leefgeld.amount", "needs an amount"),
    "geen-without-reason": (('regime = "huur_zorg"', 'regime = "geen"'), "versions.1.reason", "needs a reason"),
    "afbouw-not-withheld": (('regime = "volledig"', 'regime = "huur_zorg"'), "versions.0.afbouw",
                            "not withheld under regime 'huur_zorg'"),
    "duplicate-reservering": (('from_month = 3', 'from_month = 3\n\n[[versions.reserveringen]]\nname = "eigen-risico"'
                               '\namount_per_month = "1.00"'), "versions.0.reserveringen", "listed twice"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_mistake_is_refused_naming_the_file_and_the_key(tmp_path, case):
    (old, new), key, reason = REFUSED[case]
    path = write(tmp_path, case, **{old: new})
    error = refusal(path)
    assert f"{path}: {key}: " in str(error)
    assert reason in str(error)
    assert error.field == key
    assert error.path == path


def test_geen_refuses_what_needs_a_basisrekening(tmp_path):
    path = write(tmp_path, "geen", **{'regime = "volledig"': 'regime = "geen"\nreason = "opt-out"'})
    message = str(refusal(path))
    for key in ("versions.0.inrichtingskrediet_overbrugging", "versions.0.afbouw", "versions.0.reserveringen"):
        assert f"{path}: {key}: " in message
    assert "basisrekening" in message


def test_a_name_that_is_not_the_file_stem_is_refused(tmp_path):
    path = write(tmp_path, "roermond", BASE.format(name="roermnod"))
    error = refusal(path)
    assert str(error) == f"{path}: name: 'roermnod' must equal the file name 'roermond'"
    assert error.field == "name"


def test_a_toml_syntax_error_names_the_file_and_the_line(tmp_path):
    path = write(tmp_path, "syntax", **{'title = "Proefgemeente"': 'title "Proefgemeente"'})
    error = refusal(path)
    assert str(error).startswith(f"{path}: line 2, column 7: TOML syntax error: ")


def test_a_missing_key_is_named(tmp_path):
    path = write(tmp_path, "no-regime", **{'regime = "huur_zorg"\n': ""})
    assert f"{path}: versions.1.regime: required key is missing" in str(refusal(path))


def test_every_mistake_in_a_file_is_reported_at_once(tmp_path):
    path = write(tmp_path, "two", **{'regime = "volledig"': 'regime = "alles"', "from_month = 3": "from_month = 0"})
    error = refusal(path)
    assert [p.field for p in error.problems] == ["versions.0.regime", "versions.0.reserveringen.0.from_month"]


def test_a_profile_error_is_a_refusal_like_any_invalid_input(tmp_path):
    error = refusal(write(tmp_path, "x", **{'regime = "volledig"': 'regime = "x"'}))
    assert isinstance(error, InvalidInputError)
    assert error.code == "invalid-profile"


def test_loading_a_directory_stops_at_a_bad_file_and_names_it(tmp_path):
    write(tmp_path, "good")
    bad = write(tmp_path, "bad", **{'floor_per_week = "45.00"': "floor_per_week = 45"})
    with pytest.raises(ProfileError, match=re.escape(f"{bad}: versions.0.leefgeld.floor_per_week")):
        load_profiles(tmp_path)


def test_a_missing_file_or_directory_is_a_profile_error(tmp_path):
    with pytest.raises(ProfileError, match="nowhere.toml"):
        load_profile(tmp_path / "nowhere.toml")
    with pytest.raises(ProfileError, match="not a directory"):
        load_profiles(tmp_path / "nowhere")
