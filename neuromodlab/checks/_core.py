"""The machinery every self-check module shares: the error students see, how a failing call is
named, the usual return-value checks, and the fallback ``yours_or_reference``.

A check calls the student's function through :func:`_call`, which returns the output together
with a readable description of the call (``"ring_bump(tensor([0.3]), 8)"``); every message starts
with that description, so the student knows which input failed.
"""

from __future__ import annotations

import math
import signal
import threading
from contextlib import contextmanager

import numpy as np
import torch

from .. import tasks


class CheckFailed(AssertionError):
    """A self-check found a problem (an AssertionError, so nbgrader scores the cell 0)."""


# ---------------------------------------------------------------------------------------------
# Naming the call


def _fmt(value) -> str:
    """A short description of one argument, for the name of a call."""
    if isinstance(value, torch.Tensor):
        if value.numel() <= 4:
            return f"tensor({[round(v, 4) for v in value.reshape(-1).tolist()]})"
        return f"<tensor of shape {tuple(value.shape)}>"
    if isinstance(value, np.ndarray):
        return repr(value.tolist()) if value.size <= 6 else f"<array of shape {value.shape}>"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"<{len(value)} values>"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tasks.TaskSet):
        return f"TaskSet({list(value.names)})"
    if isinstance(value, tasks.Batch):
        names = {value.task_names[int(k)] for k in value.task_ids.unique()}
        kind = f" {names.pop()}" if len(names) == 1 else ""
        return f"<batch of {value.batch_size}{kind} trials>"
    if isinstance(value, (torch.nn.Module, torch.optim.Optimizer)):
        return f"<{type(value).__name__}>"
    if callable(value) and not isinstance(value, type):
        return getattr(value, "__name__", "<function>")
    return repr(value)


def _call(fn, name: str, *args, **kwargs):
    """``(fn(*args, **kwargs), "name(args)")``. Any exception other than NotImplementedError
    (an unfinished exercise: passed through) becomes a CheckFailed naming the call."""
    shown = ", ".join([_fmt(a) for a in args] + [f"{k}={_fmt(v)}" for k, v in kwargs.items()])
    call = f"{name}({shown})"
    try:
        out = fn(*args, **kwargs)
    except (NotImplementedError, CheckFailed):
        raise
    except Exception as err:
        raise CheckFailed(f"{call} raised {type(err).__name__}: {err}. Call it yourself on "
                          "inputs like these to see the full traceback.") from err
    return out, call


# ---------------------------------------------------------------------------------------------
# What came back


def _tensor(out, call: str, what: str = "a torch tensor", finite: bool = False) -> torch.Tensor:
    """``out`` as a tensor (a numpy array is accepted); with ``finite``, no NaN or inf either."""
    if isinstance(out, np.ndarray):
        out = torch.from_numpy(out)
    if not isinstance(out, torch.Tensor):
        raise CheckFailed(f"{call} should return {what}, but returned {type(out).__name__}.")
    if finite:
        _finite(out, call)
    return out


def _finite(out: torch.Tensor, call: str) -> None:
    if out.is_floating_point() and not torch.isfinite(out).all():
        raise CheckFailed(f"{call} returned NaN or infinite values; look for a division by zero "
                          "or a log/sqrt of a non-positive number.")


def _shape(out, expected: tuple, call: str, meaning: str) -> None:
    if tuple(out.shape) != tuple(expected):
        raise CheckFailed(f"{call} should return shape {tuple(expected)} ({meaning}), "
                          f"but returned shape {tuple(out.shape)}.")


_WORDS = {2: "two", 3: "three", 4: "four"}


def _tuple(out, call: str, names: tuple, kind: str = "values") -> tuple:
    """``out`` as a tuple of ``len(names)`` values (a list is accepted)."""
    if not isinstance(out, (tuple, list)) or len(out) != len(names):
        got = f"{len(out)} values" if isinstance(out, (tuple, list)) else type(out).__name__
        raise CheckFailed(f"{call} should return {_WORDS.get(len(names), len(names))} {kind} "
                          f"({', '.join(names)}), separated by commas in the return statement; "
                          f"got {got}.")
    return tuple(out)


def _number(value, call: str, what: str, finite: bool = True) -> float:
    """``value`` (a Python, numpy or one-element torch number) as a float (finite, unless
    ``finite=False``, e.g. where nan means "never")."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CheckFailed(f"{call} should return {what} as a number (use float(...) or "
                          f".item()), got {type(value).__name__}.")
    if finite and not math.isfinite(value):
        raise CheckFailed(f"{call} returned a {what} that is NaN or infinite.")
    return float(value)


def _int(out, call: str) -> int:
    """``out`` as an int (a float with an integer value is accepted, a bool is not)."""
    if isinstance(out, torch.Tensor) and out.numel() == 1:
        out = out.item()
    if isinstance(out, (bool, np.bool_)) or not isinstance(out, (int, np.integer)):
        if isinstance(out, (float, np.floating)) and float(out).is_integer():
            return int(out)
        raise CheckFailed(f"{call} should return an int, but returned {type(out).__name__} "
                          f"({out!r}).")
    return int(out)


def _passed(name: str, n: int) -> None:
    print(f"\u2705 {name}: all {n} checks passed.")


# ---------------------------------------------------------------------------------------------
# Fallback


class _TookTooLong(Exception):
    pass


@contextmanager
def _time_limit(seconds: float | None):
    """Raise _TookTooLong after ``seconds`` (Unix main thread only; elsewhere no limit)."""
    usable = (seconds is not None and hasattr(signal, "SIGALRM")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def handler(signum, frame):
        raise _TookTooLong()

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def yours_or_reference(yours, reference, *example, name: str | None = None,
                       time_limit: float | None = 10.0):
    """Your function if it runs on ``example`` (returns within ``time_limit`` seconds, raises
    nothing), else ``reference``, so that the rest of the notebook keeps working. Prints which
    one is used."""
    name = name or getattr(yours, "__name__", "your function")
    try:
        with _time_limit(time_limit):
            yours(*example)
    except NotImplementedError:
        print(f"{name} is not implemented yet: the rest of this notebook uses the library's "
              "version. Come back to the exercise any time!")
        return reference
    except _TookTooLong:
        print(f"{name} did not finish within {time_limit:g} s on a tiny example (an endless "
              "loop?): the rest of this notebook uses the library's version.")
        return reference
    except Exception as err:
        print(f"{name} raised {type(err).__name__} ({err}) on a small example: the rest of this "
              "notebook uses the library's version. Run the exercise's test cell for details.")
        return reference
    print(f"Using your {name} from here on.")
    return yours
