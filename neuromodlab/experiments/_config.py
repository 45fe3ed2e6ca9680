"""What the experiment settings share: checks with messages that say what is allowed, and the
``quick()`` / ``default()`` / ``full()`` presets.

Every check returns the cleaned value (ints as ``int``, lists as tuples) and raises
``ValueError`` naming the setting, the value given and what would be accepted. Single numbers
are checked by the library's :func:`~neuromodlab._validate.check_int` and
:func:`~neuromodlab._validate.check_number` (a wrong type there is a ``TypeError``).
"""

from __future__ import annotations

from .._validate import check_int, check_number, is_int
from ..modulation import MECHANISMS
from ..tasks import TASK_NAMES

CONTEXT_MECHANISMS = tuple(m for m in MECHANISMS if m != "none")  # "none" has no context


def int_tuple(values, name: str, minimum: int = 1) -> tuple[int, ...]:
    """A non-empty list of distinct ints >= ``minimum``, as a tuple."""
    if isinstance(values, (str, int)) or not len(values):
        raise ValueError(f"{name} must be a non-empty list of ints (e.g. (0, 1, 2)), got "
                         f"{values!r}")
    bad = [v for v in values if not is_int(v) or v < minimum]
    if bad:
        raise ValueError(f"{name}: every entry must be an int >= {minimum}, got {bad}")
    out = tuple(int(v) for v in values)
    if len(set(out)) != len(out):
        raise ValueError(f"{name} lists a value twice: {list(out)}; give each once")
    return out


def name_tuple(values, name: str, allowed, kind: str = "name") -> tuple[str, ...]:
    """A non-empty list of distinct names (each a ``kind``) from ``allowed``, as a tuple."""
    allowed = tuple(allowed)
    if isinstance(values, str) or not len(values):
        raise ValueError(f"{name} must be a non-empty list of names from {allowed}, got "
                         f"{values!r}")
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"{name}: unknown {kind}(s) {unknown}; choose from {allowed}")
    if len(set(values)) != len(values):
        raise ValueError(f"{name} lists a name twice: {list(values)}; give each once")
    return tuple(values)


def task_names(values, name: str = "tasks") -> tuple[str, ...]:
    return name_tuple(values, name, TASK_NAMES, "task")


def mechanism_names(values, name: str = "mechanisms") -> tuple[str, ...]:
    return name_tuple(values, name, CONTEXT_MECHANISMS, "mechanism")


def name_pairs(pairs, allowed, name: str = "pairs", among: str = "tasks",
               allow_empty: bool = False) -> tuple[tuple[str, str], ...]:
    """Ordered pairs (a, b) of two different names from ``allowed`` (the setting ``among``)."""
    if isinstance(pairs, str) or (not len(pairs) and not allow_empty):
        raise ValueError(f"{name} is empty: give at least one pair such as ('go', 'anti')")
    out = []
    for pair in pairs:
        if isinstance(pair, str) or len(pair) != 2 or pair[0] == pair[1]:
            raise ValueError(f"{name}: each entry must be two different names such as "
                             f"('go', 'anti'), got {pair!r}")
        missing = [t for t in pair if t not in allowed]
        if missing:
            raise ValueError(f"{name}: {missing} of {tuple(pair)} not in {among} "
                             f"{tuple(allowed)}; pair only names listed there")
        out.append((str(pair[0]), str(pair[1])))
    return tuple(out)


def increasing_grid(values, name: str, lo: float | None = None, hi: float | None = None,
                    start: float | None = None, end: float | None = None) -> tuple[float, ...]:
    """A strictly increasing, non-empty tuple of numbers in [lo, hi]; ``start`` / ``end``: the
    value the grid must begin / finish with."""
    try:
        values = tuple(float(v) for v in values)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a list of numbers, got {values!r}") from err
    if not values:
        raise ValueError(f"{name} is empty: give a list of numbers such as (0, 0.5, 1)")
    for v in values:
        check_number(v, f"{name}: every entry", lo, hi)
    if list(values) != sorted(set(values)):
        raise ValueError(f"{name} must be strictly increasing (each value once), got {values}")
    for where, want, got in (("start", start, values[0]), ("end", end, values[-1])):
        if want is not None and got != want:
            raise ValueError(f"{name} must {where} at {want:g} (the clean, trained cue), got "
                             f"{values}")
    return values


def check_training(config, ints) -> None:
    """Check (and clean) the fields every experiment's training shares: the positive ints
    named in ``ints``, ``lr`` > 0 and ``criterion`` in [0, 1]."""
    for name in ints:
        setattr(config, name, check_int(getattr(config, name), name))
    config.lr = check_number(config.lr, "lr (the learning rate)", 0.0, strict=True)
    config.criterion = check_number(config.criterion, "criterion (fraction correct)", 0.0, 1.0)


class Presets:
    """``quick()``, ``default()`` and ``full()`` for a settings dataclass: the class attributes
    ``QUICK`` and ``FULL`` hold what those presets change from the defaults; keyword
    ``overrides`` change any field on top (``Config.quick(seeds=(0,))``)."""

    QUICK: dict = {}
    FULL: dict = {}

    @classmethod
    def quick(cls, **overrides):
        """A smoke run (seconds): tiny networks, a few steps; not a scientific setting."""
        return cls(**{**cls.QUICK, **overrides})

    @classmethod
    def default(cls, **overrides):
        """The reduced experiment that ``python -m neuromodlab reproduce`` runs."""
        return cls(**overrides)

    @classmethod
    def full(cls, **overrides):
        """Larger sweeps (more seeds, sizes, steps); see the class docstring for the cost."""
        return cls(**{**cls.FULL, **overrides})
