"""Argument checks shared by the library's configurations and public functions.

Convention: ``TypeError`` when an argument has the wrong type, ``ValueError`` when its value is
out of range; every message names the argument, says what was expected and shows what was given.
NumPy integers and floats count as ints and numbers; ``bool`` does not.
"""

from __future__ import annotations

import math

import numpy as np


def is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def is_number(x) -> bool:
    """A finite real number (int or float, NumPy scalars included; not bool)."""
    return (is_int(x) or isinstance(x, (float, np.floating))) and math.isfinite(x)


def check_int(value, name: str, minimum: int | None = 1) -> int:
    """``value`` as a Python int, if it is an int >= ``minimum`` (None: any int)."""
    if not is_int(value) or (minimum is not None and value < minimum):
        expected = "an int" if minimum is None else f"an int >= {minimum}"
        raise (ValueError if is_int(value) else TypeError)(
            f"{name} must be {expected}, got {value!r}")
    return int(value)


def check_number(value, name: str, low: float | None = None, high: float | None = None,
                 strict: bool = False) -> float:
    """``value`` as a float, if it is a finite number in [low, high] (``strict``: > low)."""
    ok = is_number(value) and (low is None or value > low or (value == low and not strict))
    if not (ok and (high is None or value <= high)):
        numeric = is_int(value) or isinstance(value, (float, np.floating))  # nan, inf included
        if low is not None and high is not None:
            expected = f"a finite number in {'(' if strict else '['}{low:g}, {high:g}]"
        elif low is not None:
            expected = f"a finite number {'>' if strict else '>='} {low:g}"
        else:
            expected = "a finite number" if high is None else f"a finite number <= {high:g}"
        raise (ValueError if numeric else TypeError)(f"{name} must be {expected}, got {value!r}")
    return float(value)
