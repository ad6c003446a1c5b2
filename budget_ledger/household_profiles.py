"""Which rule profile applies to one household, from which day, and what it changes in that profile.

A household normally follows its gemeente's profile (GemeenteSettings.rule_profile, or the law's standard
form when the gemeente names none). A budgetbeheerder can deviate for one household — maatwerk — in two
ways, each from a date: by assigning another profile, and by overriding parts of a profile version
(`{"leefgeld": {"mode": "fixed", "amount": "250.00"}}`). Every assignment has a reason and is kept in an
append-only history (the database refuses to change or delete it): a correction is a new row, and the
latest assignment recorded for a date wins.

An override is a partial ProfileVersion. It is merged onto the version in force on the day and the result
is validated as a whole, so an override can never produce rules a profile file could not contain; it is
checked when it is recorded, against the version in force on its first day and every later version of the
profile, so a profile change in the future cannot silently turn it invalid.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from pydantic import Field, ValidationError, field_validator

from budget_ledger.clock import Clock, system_clock
from budget_ledger.errors import ConflictError, FieldProblem, InvalidInputError, NotFoundError
from budget_ledger.gemeenten import Gemeente
from budget_ledger.households import read_for_household, require_household
from budget_ledger.inputs import Command, validated
from budget_ledger.ports import UnitOfWork
from budget_ledger.rules.profiles import Profile, ProfileVersion
from budget_ledger.transactions import Transactions

# -- the catalog -------------------------------------------------------------------------------------


class ProfileCatalog(Mapping[str, Profile]):
    """The rule profiles the service knows (config/profiles/*.toml), by name. Immutable.

    `catalog[name]` raises KeyError as any mapping does; `catalog.get(name)` is the service layer's lookup
    and raises NotFoundError, so an unknown name is a refusal like any other.
    """

    default_name = "wet-standaard"
    """The profile of a gemeente that names none: the law's standard form."""

    def __init__(self, profiles: Mapping[str, Profile] | Iterable[Profile] = ()) -> None:
        items = profiles.items() if isinstance(profiles, Mapping) else ((p.name, p) for p in profiles)
        by_name: dict[str, Profile] = {}
        for name, profile in items:
            if name != profile.name:
                raise ValueError(f"profile {profile.name!r} is filed under the name {name!r}")
            by_name[name] = profile
        self._profiles = MappingProxyType(dict(sorted(by_name.items())))

    def __reduce__(self) -> tuple[type[ProfileCatalog], tuple[dict[str, Profile]]]:
        """Pickled as the profiles it holds: a payment run's planning processes plan with this very catalog."""
        return ProfileCatalog, (dict(self._profiles),)

    def __getitem__(self, name: str) -> Profile:
        return self._profiles[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._profiles)

    def __len__(self) -> int:
        return len(self._profiles)

    def __repr__(self) -> str:
        return f"ProfileCatalog({', '.join(self._profiles)})"

    def get(self, name: str, *, field: str = "profile") -> Profile:  # type: ignore[override]
        """The profile called `name`; NotFoundError naming `field` when there is none."""
        profile = self._profiles.get(name)
        if profile is None:
            known = ", ".join(self._profiles) or "none"
            raise NotFoundError(f"there is no rule profile {name!r} (known: {known})", field=field)
        return profile

    def name_for(self, gemeente: Gemeente) -> str:
        return gemeente.settings.rule_profile or self.default_name

    def for_gemeente(self, gemeente: Gemeente) -> Profile:
        """The gemeente's own profile; NotFoundError when its settings name one that is not loaded."""
        name = self.name_for(gemeente)
        if name not in self._profiles:
            raise NotFoundError(
                f"gemeente {gemeente.code!r} follows rule profile {name!r}, which is not loaded", field="rule_profile"
            )
        return self._profiles[name]


# -- commands and records ----------------------------------------------------------------------------


class AssignProfile(Command):
    """From `valid_from` on, this household follows `profile` (None: its gemeente's), with `overrides`."""

    valid_from: date
    profile: str | None = Field(
        min_length=1, max_length=60, description="a profile name; null for the gemeente's own profile"
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="a partial profile version merged onto the one in force, e.g. "
        '{"leefgeld": {"mode": "fixed", "amount": "250.00"}}; {} for none',
    )
    reason: str = Field(min_length=5, max_length=2000)

    @field_validator("overrides")
    @classmethod
    def _plain_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        # What is validated is what is stored: plain JSON, as it will be read back.
        try:
            value = json.loads(json.dumps(value, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"must be plain JSON, with amounts as decimal strings: {exc}") from None
        if "valid_from" in value:
            raise ValueError("valid_from cannot be overridden: the assignment's own valid_from says from when it applies")
        return value


@dataclass(frozen=True, slots=True)
class ProfileAssignment:
    """One recorded assignment; never changed, only followed by another."""

    id: int
    household_id: int
    valid_from: date
    profile: str | None
    """None: the gemeente's own profile."""
    overrides: Mapping[str, Any]
    reason: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class EffectiveProfile:
    """The rules that hold for a household on a day, and where they come from."""

    profile_name: str
    version: ProfileVersion
    assignment_id: int | None
    """The assignment that chose them; None when the household simply follows its gemeente."""
    overridden_keys: tuple[str, ...]
    """The dotted keys the assignment overrides, e.g. ("leefgeld.amount", "leefgeld.mode")."""


# -- the pure rule -----------------------------------------------------------------------------------


def assignment_on(assignments: Iterable[ProfileAssignment], day: date) -> ProfileAssignment | None:
    """The assignment in force on `day`: the latest valid_from not after it; for one date, the last recorded."""
    in_force = [a for a in assignments if a.valid_from <= day]
    return max(in_force, key=lambda a: (a.valid_from, a.recorded_at, a.id), default=None)


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` laid over it: dicts merge key by key, lists and scalars are replaced."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def dotted_keys(overrides: Mapping[str, Any], prefix: str = "") -> tuple[str, ...]:
    """The leaves of `overrides` as sorted dotted keys; a list is one leaf."""
    keys: list[str] = []
    for key, value in overrides.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            keys.extend(dotted_keys(value, f"{path}."))
        else:
            keys.append(path)
    return tuple(sorted(keys))


def apply_overrides(version: ProfileVersion, overrides: Mapping[str, Any]) -> ProfileVersion:
    """`version` with `overrides` merged in, validated as a whole; pydantic's ValidationError if it breaks."""
    if not overrides:
        return version
    merged = deep_merge(version.model_dump(mode="json"), overrides)
    # A version's valid_from is a strict date; the JSON dump made it a string. It is never overridden.
    merged["valid_from"] = version.valid_from
    return ProfileVersion.model_validate(merged)


Merges = dict[tuple[int, Hashable], tuple[ProfileVersion, ProfileVersion]]
"""(id of a base version, overrides' content) → (that base version, the merged version)."""
MERGES_KEPT = 4096


def _merged(base: ProfileVersion, overrides: Mapping[str, Any], merges: Merges | None) -> ProfileVersion:
    """`apply_overrides`, remembered in `merges` by the base version and the overrides' content; a failed
    merge is never remembered (its ValidationError goes to the caller each time)."""
    if merges is None or not overrides:
        return apply_overrides(base, overrides)
    key = (id(base), _content(overrides))
    hit = merges.get(key)
    if hit is not None and hit[0] is base:
        return hit[1]
    version = apply_overrides(base, overrides)
    if len(merges) >= MERGES_KEPT:  # a long-running service meets many distinct overrides: start afresh
        merges.clear()
    merges[key] = (base, version)
    return version


def _content(value: Any) -> Hashable:
    """A hashable value equal for equal overrides, types included ("60.00" and Decimal("60.00") differ)."""
    if isinstance(value, Mapping):
        return ("map", tuple(sorted((str(k), _content(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("seq", tuple(_content(v) for v in value))
    return (type(value).__name__, repr(value))


def effective_version(
    gemeente_profile: Profile, catalog: Mapping[str, Profile], assignments: Iterable[ProfileAssignment], day: date,
    *, memo: dict[tuple[int, int], tuple[ProfileAssignment, ProfileVersion, EffectiveProfile]] | None = None,
    merges: Merges | None = None,
) -> EffectiveProfile:
    """The profile version that holds for a household on `day`, with its assignment's overrides applied.

    Without an assignment in force it is the gemeente's profile unchanged. An assignment chooses the
    profile (None: the gemeente's) and its overrides are merged onto that profile's version on `day`.

    `memo` (optional, owned by the caller): the merged version per (assignment, base version), so the days
    that share both share one validation. Both are immutable and are kept in the memo with the result, so
    the identities in the key stay theirs; a failed merge is never memoised. `merges` (optional, shared by
    many households): the merged version per (base version, overrides' content), so households with the
    same overrides (a weekly leefgeld of the same amount) share one validation too.
    """
    assignment = assignment_on(assignments, day)
    if assignment is None:
        return EffectiveProfile(gemeente_profile.name, gemeente_profile.version_on(day), None, ())
    profile = _profile_named(catalog, assignment.profile) if assignment.profile else gemeente_profile
    base = profile.version_on(day)
    if memo is not None:
        hit = memo.get((id(assignment), id(base)))
        if hit is not None and hit[0] is assignment and hit[1] is base:
            return hit[2]
    try:
        version = _merged(base, assignment.overrides, merges)
    except ValidationError as exc:
        # Checked when recorded, so only a changed profile file or gemeente setting can bring this about.
        problems = "; ".join(f"{p.field}: {p.reason}" for p in _override_problems(exc))
        raise ConflictError(
            f"the overrides of profile assignment {assignment.id} no longer fit profile {profile.name} on {day} "
            f"({problems}); record a new assignment",
            field="overrides",
        ) from None
    effective = EffectiveProfile(profile.name, version, assignment.id, dotted_keys(assignment.overrides))
    if memo is not None:
        memo[(id(assignment), id(base))] = (assignment, base, effective)
    return effective


def check_overrides(profile: Profile, valid_from: date, overrides: Mapping[str, Any]) -> None:
    """InvalidInputError unless `overrides` make a valid version of `profile` on `valid_from` and on the
    first day of every later version of it. Each problem names its key as `overrides.<dotted key>`."""
    if valid_from < profile.versions[0].valid_from:
        raise InvalidInputError(
            "valid_from",
            f"profile {profile.name} has no version in force on {valid_from}; "
            f"its first starts on {profile.versions[0].valid_from}",
        )
    days = [valid_from, *(v.valid_from for v in profile.versions if v.valid_from > valid_from)]
    for day in days:
        try:
            apply_overrides(profile.version_on(day), overrides)
        except ValidationError as exc:
            later = "" if day == valid_from else f" (in profile {profile.name}'s version from {day})"
            problems = _override_problems(exc, later)
            raise InvalidInputError(problems[0].field, problems[0].reason, *problems[1:]) from None


def _override_problems(exc: ValidationError, suffix: str = "") -> list[FieldProblem]:
    """pydantic's errors for a merged version, each named by its key under `overrides`."""
    return [
        FieldProblem(
            ".".join(["overrides", *(str(part) for part in error["loc"])]),
            str(error["msg"]).removeprefix("Value error, ") + suffix,
        )
        for error in exc.errors(include_url=False, include_input=False)
    ]


def _profile_named(catalog: Mapping[str, Profile], name: str) -> Profile:
    if isinstance(catalog, ProfileCatalog):
        return catalog.get(name)
    if name not in catalog:
        raise NotFoundError(f"there is no rule profile {name!r}", field="profile")
    return catalog[name]


# -- the service -------------------------------------------------------------------------------------


class HouseholdProfileService:
    def __init__(self, transactions: Transactions, catalog: ProfileCatalog, clock: Clock = system_clock) -> None:
        self._tx = transactions
        self._catalog = catalog
        self._clock = clock

    @property
    def catalog(self) -> ProfileCatalog:
        return self._catalog

    def assign(self, household_id: int, data: AssignProfile | Mapping[str, Any], actor: str) -> ProfileAssignment:
        """Record that from `valid_from` on the household follows a profile, with overrides. Nothing is
        written unless the profile exists and the overrides hold on every version from that day on."""
        command = validated(AssignProfile, data)

        def work(uow: UnitOfWork) -> ProfileAssignment:
            household = require_household(uow, household_id)
            if command.profile is None:
                profile = self._catalog.for_gemeente(uow.registry.gemeente(household.gemeente_id))
            elif command.profile in self._catalog:
                profile = self._catalog[command.profile]
            else:
                known = ", ".join(self._catalog) or "none"
                raise InvalidInputError("profile", f"there is no rule profile {command.profile!r} (known: {known})")
            check_overrides(profile, command.valid_from, command.overrides)
            return uow.registry.add_profile_assignment(household_id, command, actor, self._clock())

        return self._tx.run(work)

    def history(self, household_id: int) -> list[ProfileAssignment]:
        """Every assignment of the household, in the order they were recorded."""
        return read_for_household(self._tx, household_id, lambda uow: uow.registry.profile_assignments(household_id))

    def effective(self, household_id: int, day: date) -> EffectiveProfile:
        """The rules that hold for the household on `day`."""

        def work(uow: UnitOfWork) -> EffectiveProfile:
            household = require_household(uow, household_id)
            gemeente_profile = self._catalog.for_gemeente(uow.registry.gemeente(household.gemeente_id))
            return effective_version(gemeente_profile, self._catalog, uow.registry.profile_assignments(household_id), day)

        return self._tx.run(work, write=False)

