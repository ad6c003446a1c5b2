"""The simulated population: gemeenten and households with realistic, varied situations, drawn from a seed.

Pure: this module decides *who* arrives *when* and with *what* (members, rent, creditors, income, krediet,
how late each toeslag really is, whether the trajectory is extended), and nothing is written. `intake.py`
enters a case through the services as a budgetbeheerder would; `bank.py` lets its income arrive.

Figures follow domain.md (section D's shared fixture parameters and B1–B4): bijstand norms of 1 January
and 1 July 2025 (paid without the 5 % vakantietoeslag), zorgtoeslag €131 single / €250 with a toeslagpartner,
kinderbijslag per quarter by age, rent €520–880, zorgverzekering ≈ €150 per adult, energie and water as
CBS averages, an inrichtingskrediet of €2,800–5,200 where the gemeente grants one. Huurtoeslag and
kindgebonden budget are rough [SYN] figures (domain.md E3: use configured amounts, never computed ones).
Toeslagen arrive 8–13 weeks after the conditions are met (B1), as one sum with the back-payment.

Every income has its payer as a bank statement shows it (`Payer`: name and IBAN): the gemeente pays bijstand
and the inrichtingskrediet from its account at BNG Bank, Dienst Toeslagen pays every toeslag from the
Belastingdienst's one account, the SVB pays kinderbijslag, and an employer pays wages with the employee's
personnel number in the description. The budgetbeheerder records the payer IBAN (and the personnel number)
with the expected income at intake, so the statement import can recognise the money.

The same seed always gives the same world: one `random.Random(seed)` is drawn from in a fixed order, and
the payers from a second one (`payer_rng`), so adding them left the households of every seed as they were.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from budget_ledger.adapters.simulation import bank_details
from budget_ledger.ledger.money import Money
from budget_ledger.rules.profiles import CostCategory, Profile
from budget_ledger.rules.snapshot import month_start

M = Money.parse


# -- the gemeenten -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GemeenteSpec:
    code: str
    name: str
    profile: str
    weight: int
    woningcorporatie: str
    waterbedrijf: str
    krediet: bool
    """Grants an inrichtingskrediet at housing (the gemeenten whose profile bridges with it or repays it)."""
    opt_out: bool = False
    """No technical ontzorging (Tilburg): households are registered as 'ontzorgd in afwijkende vorm' (S20)."""
    settings: Mapping[str, Any] = field(default_factory=dict)


GEMEENTEN: tuple[GemeenteSpec, ...] = (
    GemeenteSpec("roermond", "Roermond", "roermond", 3, "Woonstichting Roerdal", "Waterbedrijf Maasland", True),
    GemeenteSpec("deventer", "Deventer", "deventer", 3, "Woonbedrijf IJsselstad", "Waterbedrijf Salland", True),
    GemeenteSpec("aalten", "Aalten", "aalten", 1, "Woonstichting Achterhoek", "Waterbedrijf Oost", True),
    GemeenteSpec("doetinchem", "Doetinchem", "doetinchem", 2, "Woonstichting Slingeland", "Waterbedrijf Oost", True),
    # Westfriesland counts the period from housing and does not ontzorg nareizigers (004:L328).
    GemeenteSpec("hoorn", "Hoorn", "westfriesland", 2, "Woonstichting West-Friesland", "Waterbedrijf Noordkop", False,
                 settings={"anchor": "huisvesting", "nareiziger_asiel_eligible": False}),
    GemeenteSpec("enkhuizen", "Enkhuizen", "westfriesland", 1, "Woonstichting Zuiderzee", "Waterbedrijf Noordkop", False,
                 settings={"anchor": "huisvesting", "nareiziger_asiel_eligible": False}),
    GemeenteSpec("apeldoorn", "Apeldoorn", "wet-standaard", 2, "Woonstichting Veluwezoom", "Waterbedrijf Veluwe", False),
    GemeenteSpec("tilburg", "Tilburg", "tilburg", 1, "Woonstichting Hart van Brabant", "Waterbedrijf Brabant", False,
                 opt_out=True),
)

ZORGVERZEKERAARS = ("Zorgverzekeraar Gezond U.A.", "ZorgSamen Verzekeringen N.V.", "Polis Plus Zorg U.A.")
ENERGIELEVERANCIERS = ("Groene Stroom B.V.", "Energie Samen B.V.", "Stroom en Gas Nederland B.V.")

# Bijstand norms for 21 to AOW age, monthly payout without the 5 % vakantietoeslag (domain.md B3, section D):
# (from, single, couple). A single parent gets the single norm (the ALO-kop is in the kindgebonden budget).
BIJSTAND_NORMS: tuple[tuple[date, Money, Money], ...] = (
    (date(2025, 1, 1), M("1281.38"), M("1830.54")),
    (date(2025, 7, 1), M("1303.87"), M("1862.67")),
)
ZORGTOESLAG = {1: M("131.00"), 2: M("250.00")}  # 2025 maximum, single / with a toeslagpartner (B1)
KINDERBIJSLAG_PER_QUARTER = ((5, M("286.45")), (11, M("347.83")), (17, M("409.21")))  # 2025, by age (B2)
KGB_PER_CHILD = M("209.25")  # [SYN] ≈ €2,511 a year per child
KGB_ALO_KOP = M("282.40")  # [SYN] ≈ €3,389 a year, single parents only
WAGE_DISREGARD_SHARE, WAGE_DISREGARD_MAX = 25, M("253.00")  # [I] inkomstenvrijlating 25 %, capped

EXTENSION_REASONS = (
    "Nog niet zelfredzaam voor huur en zorgverzekering (004:L332)",
    "Training 'Omgaan met geld' nog niet afgerond (S10 uitkomst C)",
    "Toeslagen pas laat op gang gekomen; eerst een stabiele maand afwachten",
)

# Names by language (ISO 639): Tigrinya, Arabic, Dari, Turkish, Somali.
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "ti": (("Yonas", "Filmon", "Mehari", "Dawit", "Robel", "Samuel"), ("Senait", "Helen", "Selam", "Rahel", "Lidya", "Saba"),
           ("Tesfay", "Gebremedhin", "Habte", "Kidane", "Tekle", "Berhe")),
    "ar": (("Ahmad", "Omar", "Khaled", "Samir", "Yasin", "Karim"), ("Rania", "Lina", "Nour", "Hiba", "Amal", "Dima"),
           ("Haddad", "Al-Khatib", "Darwish", "Hamdan", "Nasser", "Mansour")),
    "prs": (("Farid", "Hamid", "Jawad", "Nasir", "Wahid"), ("Mariam", "Zahra", "Parwana", "Fatima", "Shabnam"),
            ("Rahimi", "Karimi", "Ahmadi", "Noori", "Sultani")),
    "tr": (("Mehmet", "Emre", "Murat", "Yusuf"), ("Ayşe", "Elif", "Zeynep", "Fatma"),
           ("Yılmaz", "Kaya", "Demir", "Şahin")),
    "so": (("Abdi", "Mohamed", "Hassan", "Ali"), ("Hodan", "Amina", "Fadumo", "Sahra"),
           ("Warsame", "Farah", "Abdullahi", "Jama")),
}
LANGUAGE_WEIGHTS = (("ti", 4), ("ar", 4), ("prs", 2), ("tr", 1), ("so", 1))

KINDS = (("alleenstaande", 45), ("stel", 15), ("gezin", 25), ("eenoudergezin", 15))


# -- the payers -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payer:
    """Who pays an income, as the bank statement names it."""

    name: str
    iban: str


BELASTINGDIENST_TOESLAGEN = Payer("Belastingdienst/Toeslagen", "NL86INGB0002445588")
"""Dienst Toeslagen pays every toeslag from the Belastingdienst's one account; its description names the
toeslag, the month and the BSN of the aanvrager."""
SVB_NAME = "Sociale Verzekeringsbank"
EMPLOYERS = ("Schoonmaakbedrijf Glans B.V.", "Uitzendbureau Aan de Slag B.V.", "Distributiecentrum Oost B.V.",
             "Zorgcentrum De Linde", "Bouwbedrijf Van Dam B.V.")


def payer_rng(seed: int) -> random.Random:
    """The payers' own random stream: drawing them leaves the households of a seed unchanged."""
    return random.Random(f"budget-ledger-simulation-payers-{seed}")


# -- a household -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonCase:
    name: str
    date_of_birth: date
    role: str  # aanvrager, partner, kind


@dataclass(frozen=True)
class CreditorCase:
    organisation: str
    account_holder_name: str
    iban: str
    category: CostCategory
    reference_kind: str
    reference: str
    amount: Money
    day: int
    valid_from: date
    payer: str
    """ledger, or client_incasso for a category the profile does not withhold (S3) or an opt-out (S20)."""


@dataclass(frozen=True)
class IncomeCase:
    source: str
    amount: Money
    entitlement_from: date | None = None
    valid_to: date | None = None
    conditions_met_on: date | None = None
    depends_on_zorgverzekering: bool = False
    payment_day: str | None = None
    actual_lag_weeks: int | None = None
    """Toeslagen: how many weeks after the conditions were met Dienst Toeslagen really pays the first time."""
    payer: Payer | None = None
    reference: str | None = None
    """What the payer puts in the description that names this income (an employee's personnel number)."""

    def registration(self) -> dict[str, Any]:
        """The expected income as the budgetbeheerder enters it (the real lag is not known to them), with the
        payer's IBAN and the reference the payer gives, so the statement import recognises the money."""
        data: dict[str, Any] = {"source": self.source, "amount": str(self.amount)}
        for name in ("entitlement_from", "valid_to", "conditions_met_on", "payment_day"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.payer is not None:
            data["payer_ibans"] = [self.payer.iban]
        if self.reference is not None:
            data["references"] = [self.reference]
        return data


@dataclass(frozen=True)
class HouseholdCase:
    number: int
    """Order of intake, 1 = first housed; the household ids follow it."""
    gemeente: str
    kind: str
    housing_date: date
    permit_type: str
    permit_date: date
    language: str
    bsn: str
    begeleider: str
    members: tuple[PersonCase, ...]
    creditors: tuple[CreditorCase, ...]
    incomes: tuple[IncomeCase, ...]
    krediet: Money | None
    leefgeld_iban: str | None
    """The client's own account leefgeld is paid to; None: not known yet."""
    overrides: Mapping[str, Any] | None
    wage: Money | None
    extension_reason: str | None
    """Extended by three months at the eindevaluatie, for this reason (S10 outcome B); None: not extended."""
    opt_out: bool
    gemeente_payer: Payer | None = None
    """The gemeente's account bijstand and the inrichtingskrediet come from."""

    @property
    def adults(self) -> int:
        return sum(1 for m in self.members if m.role != "kind")

    @property
    def children(self) -> tuple[PersonCase, ...]:
        return tuple(m for m in self.members if m.role == "kind")

    @property
    def is_family(self) -> bool:
        return len(self.members) > 1


@dataclass(frozen=True)
class World:
    seed: int
    start: date
    end: date
    """The last simulated day."""
    gemeenten: tuple[GemeenteSpec, ...]
    gemeente_settings: Mapping[str, Mapping[str, Any]]
    """Per gemeente code, the settings it is created with (profile, anchor, repayment account)."""
    households: tuple[HouseholdCase, ...]


# -- drawing -----------------------------------------------------------------------------------------------


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...] | list[tuple[Any, int]]) -> Any:
    return rng.choices([value for value, _ in pairs], weights=[weight for _, weight in pairs])[0]


def _cents(rng: random.Random, low: str, high: str, step: int = 1) -> Money:
    return Money(rng.randrange(M(low).cents, M(high).cents + 1, step))


def _birth_date(rng: random.Random, on: date, min_age: int, max_age: int) -> date:
    return on - timedelta(days=rng.randrange(min_age * 365 + 5, max_age * 365 + 360))


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def norm_on(day: date, adults: int) -> Money:
    """The monthly bijstand of a household with `adults` adults on `day` (the first norm before it)."""
    in_force = [norm for norm in BIJSTAND_NORMS if norm[0] <= day] or [BIJSTAND_NORMS[0]]
    _, single, couple = in_force[-1]
    return couple if adults == 2 else single


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_after(day: date) -> date:
    """Kinderbijslag starts in the quarter after the permit (B2)."""
    return quarter_start(day) + relativedelta(months=3)


def generate(seed: int, households: int, start: date, end: date, profiles: Mapping[str, Profile]) -> World:
    """The world of one simulation: `households` households housed over the first part of [start, end]."""
    if households < 1:
        raise ValueError("simulate at least one household")
    rng = random.Random(seed)
    gemeente_settings: dict[str, dict[str, Any]] = {}
    for spec in GEMEENTEN:
        settings: dict[str, Any] = {"rule_profile": spec.profile, **spec.settings}
        if spec.krediet:  # aflossingen and voorschot repayments go back to the gemeente (at BNG)
            settings["repayment_iban"] = bank_details.iban(rng, bank_details.GEMEENTE_BANK)
            settings["repayment_account_holder_name"] = f"Gemeente {spec.name}"
        gemeente_settings[spec.code] = settings
    organisation_ibans = {name: bank_details.iban(rng) for name in (
        *(s.woningcorporatie for s in GEMEENTEN), *(s.waterbedrijf for s in GEMEENTEN), *ZORGVERZEKERAARS,
        *ENERGIELEVERANCIERS)}
    days = (end - start).days + 1
    # Intake over the first half of the period (at most 100 days), so most households have months of history.
    window = max(1, min(100, days // 2))
    cases: list[HouseholdCase] = []
    bsns: set[str] = set()
    for number in range(1, households + 1):
        spec = _weighted(rng, [(s, s.weight) for s in GEMEENTEN])
        housing = start + timedelta(days=rng.randrange(window))
        cases.append(_household(rng, number, spec, housing, end, organisation_ibans, profiles[spec.profile], bsns))
    ordered = sorted(cases, key=lambda c: (c.housing_date, c.number))
    renumbered = tuple(_renumber(case, i) for i, case in enumerate(ordered, start=1))
    return World(seed, start, end, GEMEENTEN, gemeente_settings, _with_payers(seed, renumbered))


def _renumber(case: HouseholdCase, number: int) -> HouseholdCase:
    return replace(case, number=number)


def _with_payers(seed: int, cases: tuple[HouseholdCase, ...]) -> tuple[HouseholdCase, ...]:
    """Each income with the payer a statement names (from the payers' own random stream, in intake order)."""
    rng = payer_rng(seed)
    gemeenten = {spec.code: Payer(f"Gemeente {spec.name}", bank_details.iban(rng, bank_details.GEMEENTE_BANK))
                 for spec in GEMEENTEN}
    svb = Payer(SVB_NAME, bank_details.iban(rng, "INGB"))
    employers = [Payer(name, bank_details.iban(rng)) for name in EMPLOYERS]
    out = []
    for case in cases:
        incomes = []
        for income in case.incomes:
            if income.source == "bijstand":
                income = replace(income, payer=gemeenten[case.gemeente])
            elif income.source == "kinderbijslag":
                income = replace(income, payer=svb)
            elif income.source == "loon":
                income = replace(income, payer=rng.choice(employers),
                                 reference=f"PERSNR {rng.randrange(10**5, 10**6)}-{case.number}")
            else:  # the toeslagen
                income = replace(income, payer=BELASTINGDIENST_TOESLAGEN)
            incomes.append(income)
        out.append(replace(case, incomes=tuple(incomes), gemeente_payer=gemeenten[case.gemeente]))
    return tuple(out)


def _members(rng: random.Random, kind: str, language: str, housing: date) -> tuple[PersonCase, ...]:
    men, women, surnames = NAMES[language]
    surname = rng.choice(surnames)
    first_is_woman = kind == "eenoudergezin" or rng.random() < 0.35
    aanvrager = PersonCase(f"{rng.choice(women if first_is_woman else men)} {surname}",
                           _birth_date(rng, housing, 21, 48), "aanvrager")
    members = [aanvrager]
    if kind in ("stel", "gezin"):
        members.append(PersonCase(f"{rng.choice(men if first_is_woman else women)} {surname}",
                                  _birth_date(rng, housing, 21, 48), "partner"))
    if kind in ("gezin", "eenoudergezin"):
        youngest_parent_age = min(_age(m.date_of_birth, housing) for m in members)
        for _ in range(rng.randint(1, 4 if kind == "gezin" else 3)):
            oldest = max(1, min(17, youngest_parent_age - 18))
            members.append(PersonCase(f"{rng.choice(men + women)} {surname}",
                                      _birth_date(rng, housing, 0, oldest), "kind"))
    return tuple(members)


def _household(rng: random.Random, number: int, spec: GemeenteSpec, housing: date, end: date,
               ibans: Mapping[str, str], profile: Profile, bsns: set[str]) -> HouseholdCase:
    kind = _weighted(rng, KINDS)
    language = _weighted(rng, LANGUAGE_WEIGHTS)
    members = _members(rng, kind, language, housing)
    adults = sum(1 for m in members if m.role != "kind")
    children = [m for m in members if m.role == "kind"]
    size = "single" if len(members) == 1 else ("couple" if not children else "family")
    # Westfriesland does not ontzorg nareizigers: they are simulated where the law's reading applies.
    permit = "nareiziger_asiel" if (spec.settings.get("nareiziger_asiel_eligible", True) and kind != "alleenstaande"
                                    and rng.random() < 0.15) else "asiel"
    permit_date = housing - timedelta(days=rng.randrange(20, 160))
    withheld = profile.version_on(housing).withheld_categories()

    def payer(category: CostCategory) -> str:
        return "ledger" if category in withheld and not spec.opt_out else "client_incasso"

    rent = _cents(rng, *{"single": ("520.00", "680.00"), "couple": ("600.00", "760.00"),
                         "family": ("650.00", "880.00")}[size], step=5)
    street = rng.choice(("Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsweg", "Beukenlaan", "Esdoornhof"))
    address = f"{street} {rng.randint(1, 140)}"
    creditors = [CreditorCase(spec.woningcorporatie, f"Stichting {spec.woningcorporatie}", ibans[spec.woningcorporatie],
                              CostCategory.HUUR, "vrij", f"Huur {address}", rent, 1, housing, payer(CostCategory.HUUR))]
    verzekeraar = rng.choice(ZORGVERZEKERAARS)
    for _adult in range(adults):  # one polis per adult
        creditors.append(CreditorCase(
            verzekeraar, verzekeraar, ibans[verzekeraar], CostCategory.ZORGVERZEKERING, "betalingskenmerk",
            bank_details.betalingskenmerk(rng), _cents(rng, "138.95", "162.50"), 1, housing,
            payer(CostCategory.ZORGVERZEKERING)))
    leverancier = rng.choice(ENERGIELEVERANCIERS)
    energie = _cents(rng, *{"single": ("110.00", "170.00"), "couple": ("140.00", "200.00"),
                            "family": ("170.00", "260.00")}[size], step=100)
    creditors.append(CreditorCase(leverancier, leverancier, ibans[leverancier], CostCategory.ENERGIE, "rf",
                                  bank_details.rf_reference(rng), energie, rng.choice((1, 15)), housing,
                                  payer(CostCategory.ENERGIE)))
    water = _cents(rng, *{"single": ("14.00", "20.00"), "couple": ("18.00", "26.00"),
                          "family": ("24.00", "36.00")}[size])
    creditors.append(CreditorCase(spec.waterbedrijf, spec.waterbedrijf, ibans[spec.waterbedrijf], CostCategory.WATER,
                                  "betalingskenmerk", bank_details.betalingskenmerk(rng), water, rng.choice((15, 28)),
                                  housing, payer(CostCategory.WATER)))

    # Some households earn wages from their third month (S6); the bijstand drops by what is not disregarded.
    wage = _cents(rng, "450.00", "1100.00", step=500) if rng.random() < 0.15 else None
    wage_from = month_start(housing) + relativedelta(months=2) if wage else None
    incomes: list[IncomeCase] = []
    if not spec.opt_out:
        incomes += _bijstand(housing, end, adults, wage, wage_from)
        if wage and wage_from:
            incomes.append(IncomeCase("loon", wage, entitlement_from=wage_from, payment_day="day:25:previous;offset=0"))
        incomes.append(IncomeCase("zorgtoeslag", ZORGTOESLAG[adults], depends_on_zorgverzekering=True,
                                  actual_lag_weeks=rng.randint(8, 13)))
        huurtoeslag = Money(max(0, (rent.cents - 23000) * 4 // 5) // 100 * 100)  # [SYN]
        if huurtoeslag.cents:
            incomes.append(IncomeCase("huurtoeslag", huurtoeslag, conditions_met_on=housing,
                                      actual_lag_weeks=rng.randint(8, 13)))
        if children:
            kgb = KGB_PER_CHILD * len(children) + (KGB_ALO_KOP if adults == 1 else Money(0))
            incomes.append(IncomeCase("kindgebonden-budget", kgb, conditions_met_on=housing,
                                      actual_lag_weeks=rng.randint(8, 13)))
            quarter = Money.sum(next(a for top, a in KINDERBIJSLAG_PER_QUARTER if _age(c.date_of_birth, housing) <= top)
                                for c in children)
            # From the quarter after the permit, but not before the quarter of housing: what was due before
            # was paid to the client's own account.
            first_quarter = max(quarter_after(permit_date), quarter_start(housing))
            incomes.append(IncomeCase("kinderbijslag", quarter, entitlement_from=first_quarter))

    krediet = None
    if spec.krediet:
        krediet = _cents(rng, *{"single": ("2800.00", "3600.00"), "couple": ("3200.00", "4200.00"),
                                "family": ("3800.00", "5200.00")}[size], step=5000)
    overrides = None
    if not spec.opt_out and rng.random() < 0.12:  # weekly leefgeld on Mondays for some households (S12)
        overrides = {"leefgeld": {"frequency": "weekly", "weekday": 1}}
    extension = rng.choice(EXTENSION_REASONS) if not spec.opt_out and rng.random() < 0.3 else None
    # Most clients have their own account for leefgeld by the intake (it is where bijstand would go); for
    # the others it is not recorded yet, so their leefgeld stays out of the bank file with a warning.
    leefgeld_iban = bank_details.iban(rng) if not spec.opt_out and rng.random() < 0.85 else None
    bsn = bank_details.bsn(rng)
    while bsn in bsns:  # one person, one number
        bsn = bank_details.bsn(rng)
    bsns.add(bsn)
    return HouseholdCase(
        number=number, gemeente=spec.code, kind=kind, housing_date=housing, permit_type=permit,
        permit_date=permit_date, language=language, bsn=bsn,
        begeleider=f"mb.{spec.code}.{rng.randint(1, 2)}", members=members, creditors=tuple(creditors),
        incomes=tuple(incomes), krediet=krediet, leefgeld_iban=leefgeld_iban, overrides=overrides, wage=wage,
        extension_reason=extension,
        opt_out=spec.opt_out,
    )


def _bijstand(housing: date, end: date, adults: int, wage: Money | None, wage_from: date | None) -> list[IncomeCase]:
    """The bijstand as dated expectations: a new one from each norm change and from the first wage month."""
    breaks = sorted({housing, *(d for d, _, _ in BIJSTAND_NORMS if housing < d <= end),
                     *((wage_from,) if wage_from and wage_from <= end else ())})
    segments = []
    for i, first in enumerate(breaks):
        last = breaks[i + 1] - timedelta(days=1) if i + 1 < len(breaks) else None
        amount = norm_on(first, adults)
        if wage and wage_from and first >= wage_from:
            disregard = min(Money(wage.cents * WAGE_DISREGARD_SHARE // 100), WAGE_DISREGARD_MAX)
            amount = amount - (wage - disregard)
        segments.append(IncomeCase("bijstand", amount, entitlement_from=first, valid_to=last))
    return segments
