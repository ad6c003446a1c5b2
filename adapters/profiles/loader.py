"""Reading rule profiles from TOML, refusing a file with a message that says where it is wrong.

A profile decides what is withheld from a client's bijstand, so a file that does not validate must stop
the service rather than fall back to defaults; and the person who fixes it is an operator with a text
editor, so every message names the file, the dotted key (`versions.0.leefgeld.floor_per_week`) and the
reason, and a syntax error names the line.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from budget_ledger.errors import FieldProblem, InvalidInputError
from budget_ledger.rules.profiles import Profile

_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


class ProfileError(InvalidInputError):
    """A profile file that cannot be read or does not validate. A refusal like any other invalid input."""

    code = "invalid-profile"

    def __init__(self, path: str | os.PathLike[str], problems: Sequence[FieldProblem]) -> None:
        first, *more = problems
        super().__init__(first.field, first.reason, *more)
        self.path = Path(path)
        text = "; ".join(f"{path}: {p.field}: {p.reason}" for p in self.problems)
        self.message = text
        self.args = (text,)


def load_profile(path: str | os.PathLike[str]) -> Profile:
    """The profile in `path`; its `name` must equal the file stem, so a gemeente's setting finds its file."""
    data = _read(path)
    problems: list[FieldProblem] = []
    profile: Profile | None = None
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        problems.extend(_problems(exc))
    stem = Path(path).stem
    name = data.get("name")
    if isinstance(name, str) and name.strip() != stem:
        problems.append(FieldProblem("name", f"'{name}' must equal the file name '{stem}'"))
    if problems:
        raise ProfileError(path, problems)
    assert profile is not None
    return profile


def load_profiles(directory: str | os.PathLike[str]) -> dict[str, Profile]:
    """Every `*.toml` profile in `directory` by name, in name order. The first bad file stops the load."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ProfileError(directory, [FieldProblem("(directory)", "not a directory")])
    return {profile.name: profile for profile in map(load_profile, sorted(folder.glob("*.toml")))}


def _read(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
        found = _POSITION.search(reason)
        where = f"line {found.group(1)}, column {found.group(2)}" if found else "(syntax)"
        reason = _POSITION.sub("", reason)
        raise ProfileError(path, [FieldProblem(where, f"TOML syntax error: {reason}")]) from None
    except UnicodeDecodeError as exc:
        raise ProfileError(path, [FieldProblem("(file)", f"not UTF-8 text: {exc.reason}")]) from None
    except OSError as exc:
        raise ProfileError(path, [FieldProblem("(file)", exc.strerror or str(exc))]) from None


def _problems(exc: ValidationError) -> list[FieldProblem]:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = tuple(error["loc"])
        field = ".".join(str(part) for part in loc) or "(profile)"
        problems.append(FieldProblem(field, _reason(error, loc)))
    return problems


def _reason(error: Mapping[str, Any], loc: tuple[Any, ...]) -> str:
    if error["type"] == "extra_forbidden":
        known = _known_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if close:
            return f"unknown key; did you mean '{close[0]}'?"
        return f"unknown key; the keys here are: {', '.join(known)}" if known else "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    return str(error["msg"]).removeprefix("Value error, ")


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the model accepts at `loc`, to suggest the one a misspelt key meant."""
    model: type[BaseModel] | None = Profile
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        model = _model_in(field.annotation) if field is not None else None
    return list(model.model_fields) if model is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_in(typing.get_args(annotation)[0])
    if origin in (tuple, list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
