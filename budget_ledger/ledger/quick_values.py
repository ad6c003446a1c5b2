"""Quick construction, copying and pickling of the frozen values a payment run makes by the hundred thousand.

A monthly run of 100,000 households makes tens of millions of small frozen dataclasses: amounts, postings,
bills, steps, movements, entries, instructions. Python 3.11's dataclasses make them slowly in two places:

* `__init__` of a frozen class sets each field through `object.__setattr__`, looked up and called per
  field; for these classes that was nearly a third of the rules engine's time and two fifths of making a chunk's
  entries and instructions ready.
* pickling (a planning process sends each chunk it prepared to the run's writer) sends the state and
  rebuilds it with `dataclasses`' generic `__setstate__`, which looks up the class's fields again for every
  object: a tenth of a planning process's work and a second of the writer's per 10,000 households.

`quick_value` gives a `@dataclass(frozen=True, slots=True)` an `__init__` with the same signature and
behaviour (defaults, default factories, keyword-only and init=False fields, `__post_init__`) that sets the
slots directly, and a `__reduce__` that sends the field values with a rebuild function made for the class.
The class stays frozen: assigning a field afterwards raises as before.

A rebuilt value is the one that was pickled, its fields set as they were, without its `__init__` running
again (it was validated when it was first made). Pickles are only exchanged between the service's own
processes; like every pickle, they are not for data from elsewhere.
"""

from __future__ import annotations

from dataclasses import MISSING, fields, is_dataclass, replace
from typing import Any, TypeVar

_T = TypeVar("_T", bound=type)
_KEEP = object()
"""The default of `_replace`'s parameters: keep the field as it is."""
_FACTORY = object()
"""The default of a parameter whose field has a default factory (as dataclasses does it)."""
_GENERATED_NAMES = frozenset({"self", "obj", "cls", "_new", "_FACTORY", "_KEEP"})
"""Names the generated functions use themselves: a field may not have one."""


def quick_value(cls: _T) -> _T:
    """Class decorator for a `@dataclass(frozen=True, slots=True)`: a quick `__init__` and quick pickling.

    A subclass inherits the parent's functions, which would make or rebuild it as the parent: it must be
    decorated itself (pickling it otherwise is a TypeError, never a silently different value)."""
    params = getattr(cls, "__dataclass_params__", None)
    if not is_dataclass(cls) or "__slots__" not in cls.__dict__ or params is None or not params.frozen:
        raise TypeError(f"{cls.__name__} must be a dataclass with frozen=True and slots=True")
    if any(getattr(getattr(f, "_field_type", None), "name", "") == "_FIELD_INITVAR"
           for f in cls.__dataclass_fields__.values()):  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__} has an InitVar, which quick_value does not pass on")
    all_fields = fields(cls)
    names = [f.name for f in all_fields]
    clashing = [name for name in names if name in _GENERATED_NAMES or name.startswith(("_set_", "_default_", "_factory_"))]
    if not names or clashing:
        raise TypeError(f"{cls.__name__}: quick_value needs fields, none named as its own code's names {clashing}")
    namespace: dict[str, Any] = {"_new": object.__new__, "cls": cls, "_FACTORY": _FACTORY, "_KEEP": _KEEP}
    for name in names:
        namespace[f"_set_{name}"] = getattr(cls, name).__set__
    exec(_source(cls, all_fields, namespace), namespace)  # noqa: S102 - made from the class's own fields, as dataclasses does
    qualname = cls.__qualname__
    init = namespace["__init__"]
    init.__qualname__ = f"{qualname}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    cls._dataclass_init = cls.__init__  # type: ignore[attr-defined]  # (the tests compare the two)
    cls.__init__ = init  # type: ignore[misc]
    # pickle finds the rebuild function by its qualified name: <module>.<Class>._unpickle.
    rebuild = namespace["_unpickle"]
    rebuild.__module__ = cls.__module__
    rebuild.__qualname__ = f"{qualname}._unpickle"
    cls._unpickle = staticmethod(rebuild)  # type: ignore[attr-defined]
    cls._field_names = tuple(names)  # type: ignore[attr-defined]
    quick_replace = namespace["_replace"]
    quick_replace.__qualname__ = f"{qualname}._replace"
    cls._replace = quick_replace  # type: ignore[attr-defined]
    reduce = namespace["__reduce__"]
    reduce.__qualname__ = f"{qualname}.__reduce__"
    cls.__reduce__ = reduce  # type: ignore[method-assign]
    cls.__reduce_ex__ = lambda self, protocol: reduce(self)  # type: ignore[method-assign]
    return cls


def _source(cls: type, all_fields: tuple[Any, ...], namespace: dict[str, Any]) -> str:
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for f in all_fields:
        name, setter = f.name, f"_set_{f.name}"
        if f.default is not MISSING:
            namespace[f"_default_{name}"] = f.default
        if f.default_factory is not MISSING:
            namespace[f"_factory_{name}"] = f.default_factory
        if not f.init:  # set from its default, or left for __post_init__ (as dataclasses does)
            if f.default is not MISSING:
                body.append(f"{setter}(self, _default_{name})")
            elif f.default_factory is not MISSING:
                body.append(f"{setter}(self, _factory_{name}())")
            continue
        if f.default is not MISSING:
            parameter = f"{name}=_default_{name}"
            body.append(f"{setter}(self, {name})")
        elif f.default_factory is not MISSING:
            parameter = f"{name}=_FACTORY"
            body.append(f"{setter}(self, _factory_{name}() if {name} is _FACTORY else {name})")
        else:
            parameter = name
            body.append(f"{setter}(self, {name})")
        (keyword if f.kw_only else positional).append(parameter)
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    signature = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    names = [f.name for f in all_fields]
    return (
        f"def __init__({signature}):\n"
        + "".join(f"    {line}\n" for line in body or ["pass"])
        + f"def _unpickle({', '.join(names)}):\n"
        "    obj = _new(cls)\n"
        + "".join(f"    _set_{name}(obj, {name})\n" for name in names)
        + "    return obj\n"
        f"def _replace(self, *, {', '.join(f'{name}=_KEEP' for name in names)}):\n"
        f"    return _unpickle({''.join(f'self.{name} if {name} is _KEEP else {name}, ' for name in names)})\n"
        "def __reduce__(self):\n"
        "    if type(self) is not cls:\n"
        "        raise TypeError(f'{type(self).__name__} inherits quick_value from {cls.__name__}: decorate it too')\n"
        f"    return (cls._unpickle, ({''.join(f'self.{name}, ' for name in names)}))\n"
    )


def replaced(value: Any, **changes: Any) -> Any:
    """`dataclasses.replace` for a value of a `quick_value` class without `__post_init__` (so there is
    nothing a constructor would check again): the same new value, made with the class's rebuild function in a
    quarter of `replace`'s time (the payment run's writer makes one per instruction it records)."""
    cls = type(value)
    quick = cls.__dict__.get("_replace")
    if quick is None or hasattr(cls, "__post_init__"):
        return replace(value, **changes)
    return quick(value, **changes)
