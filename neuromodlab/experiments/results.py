"""Result objects that save and load as JSON without loss, plus small statistics helpers.

Every experiment returns a dataclass that inherits :class:`JSONResult`; its fields are plain
types (bool, int, float, str, None), lists, tuples, dicts, numpy arrays, torch tensors and
nested dataclasses. Then::

    text = result.to_json()                  # or result.save("x.json")
    same = MyResult.from_json(text)          # or MyResult.load("x.json")
    assert same == result                    # (numpy arrays: compare with results_equal)

How the encoding stays lossless (``to_jsonable`` / ``from_jsonable``):

- floats are written with Python's shortest round-trip repr; non-finite floats become the
  strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (the file stays strict JSON) and are turned
  back into floats wherever the field's type hint says ``float``;
- tuples come back as tuples, nested dataclasses as themselves, dict keys that are ints as
  ints -- all driven by the dataclass's type hints, so annotate fields precisely
  (``dict[str, list[float]]``, ``tuple[str, ...]``, ``RunInfo``);
- numpy arrays and torch tensors are tagged ``{"__ndarray__": [...], "dtype": ..., "shape": ...}``
  (``"__tensor__"`` for torch) and rebuilt with their dtype and shape even inside ``Any``.

Conventions for experiment results (so ``reproduce`` can treat them alike):

- a field ``config`` holding the experiment's settings dataclass (itself JSON-able);
- a field ``info: RunInfo`` filled by :func:`run_info` at the end of the run: seeds, wall time,
  library / torch / numpy / Python versions;
- a method ``summary() -> dict`` with the headline numbers (plain floats) for ``results.json``.

Statistics: :func:`mean_ci` (mean and a 95 % t-interval over seeds), :func:`diff_ci` (a
difference of means), :func:`t_quantile`, :func:`wilson_interval` (a proportion k / n).
"""

from __future__ import annotations

import dataclasses
import json
import math
import platform
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any, Union

import numpy as np
import torch

__all__ = ["JSONResult", "RunInfo", "run_info", "to_jsonable", "from_jsonable", "save_json",
           "load_json", "dumps", "results_equal", "format_ci", "markdown_table", "mean_ci",
           "diff_ci", "t_quantile", "wilson_interval"]

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


# ------------------------------------------------------------------------------ encoding
def _float(x: float):
    if math.isfinite(x):
        return float(x)
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def to_jsonable(obj: Any) -> Any:
    """``obj`` as nested dicts / lists / str / int / float / bool / None (strict JSON)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        return _float(float(obj))
    if isinstance(obj, torch.Tensor):
        arr = obj.detach().cpu()
        return {"__tensor__": to_jsonable(arr.tolist()), "dtype": str(arr.dtype).split(".")[-1],
                "shape": list(arr.shape)}
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": to_jsonable(obj.tolist()), "dtype": str(obj.dtype),
                "shape": list(obj.shape)}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if f.metadata.get("json", True)}
    if isinstance(obj, dict):
        return {(k if isinstance(k, str) else str(to_jsonable(k))): to_jsonable(v)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


def _restore_floats(x):
    """Non-finite markers back to floats inside an untyped (nested list) payload."""
    if isinstance(x, list):
        return [_restore_floats(v) for v in x]
    return _NONFINITE.get(x, x) if isinstance(x, str) else x


def _decode_tagged(data):
    if isinstance(data, dict) and "__ndarray__" in data:
        values = _restore_floats(data["__ndarray__"])
        return np.array(values, dtype=data["dtype"]).reshape(data["shape"])
    if isinstance(data, dict) and "__tensor__" in data:
        values = _restore_floats(data["__tensor__"])
        dtype = getattr(torch, data["dtype"])
        return torch.tensor(values, dtype=dtype).reshape(data["shape"])
    return None


def from_jsonable(hint: Any, data: Any) -> Any:
    """Rebuild a value of type ``hint`` from :func:`to_jsonable`'s output."""
    tagged = _decode_tagged(data)
    if tagged is not None:
        return tagged
    if hint is Any or hint is None:
        if isinstance(data, dict):
            return {k: from_jsonable(Any, v) for k, v in data.items()}
        if isinstance(data, list):
            return [from_jsonable(Any, v) for v in data]
        return data
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        for option in options:  # the first option that decodes cleanly
            try:
                return from_jsonable(option, data)
            except (TypeError, ValueError, KeyError):
                continue
        return data
    if hint is float:
        if isinstance(data, str):
            return _NONFINITE[data]
        return float(data)
    if hint is int:
        return int(data)
    if hint in (str, bool):
        return data
    if hint in (np.ndarray, torch.Tensor):
        raise TypeError(f"expected a tagged array, got {type(data).__name__}")
    if dataclasses.is_dataclass(hint):
        return _from_dict(hint, data)
    if origin in (list, typing.List) or hint is list:  # noqa: UP006
        item = args[0] if args else Any
        return [from_jsonable(item, v) for v in data]
    if origin in (tuple, typing.Tuple) or hint is tuple:  # noqa: UP006
        if not args:
            return tuple(from_jsonable(Any, v) for v in data)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_jsonable(args[0], v) for v in data)
        return tuple(from_jsonable(a, v) for a, v in zip(args, data, strict=True))
    if origin in (dict, typing.Dict) or hint is dict:  # noqa: UP006
        key, value = args if args else (str, Any)
        return {from_jsonable(key, k): from_jsonable(value, v) for k, v in data.items()}
    return data


def _from_dict(cls, data: dict):
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} must be decoded from a dict, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    kwargs, later = {}, {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = from_jsonable(hints.get(f.name, Any), data[f.name])
        (kwargs if f.init else later)[f.name] = value
    unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)} for {cls.__name__}")
    obj = cls(**kwargs)
    for k, v in later.items():
        object.__setattr__(obj, k, v)
    return obj


_FLAT_LIST = re.compile(r"\[\s*([^\[\]{}]*?)\s*\]")


def dumps(obj, indent: int | None = 1) -> str:
    """Strict JSON text of ``to_jsonable(obj)``; lists of scalars are kept on one line."""
    text = json.dumps(to_jsonable(obj), indent=indent, allow_nan=False)
    if indent is None:
        return text
    return _FLAT_LIST.sub(lambda m: "[" + re.sub(r",\n\s*", ", ", m.group(1)) + "]", text)


def save_json(obj, path, indent: int | None = 1) -> Path:
    """Write ``dumps(obj)`` to ``path`` (parent folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(obj, indent) + "\n")
    return path


def load_json(cls, path):
    """Read a dataclass ``cls`` written by :func:`save_json`."""
    return _from_dict(cls, json.loads(Path(path).read_text()))


def results_equal(a, b) -> bool:
    """Deep equality that also compares numpy arrays / tensors (and treats NaN == NaN)."""
    if isinstance(a, (np.ndarray, torch.Tensor)) or isinstance(b, (np.ndarray, torch.Tensor)):
        if type(a) is not type(b) or a.dtype != b.dtype or tuple(a.shape) != tuple(b.shape):
            return False
        a_np = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else a
        b_np = b.detach().cpu().numpy() if isinstance(b, torch.Tensor) else b
        return bool(np.array_equal(a_np, b_np, equal_nan=a_np.dtype.kind in "fc"))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            results_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            results_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(results_equal(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


class JSONResult:
    """Mixin for result dataclasses: ``to_dict``, ``from_dict``, ``to_json``, ``from_json``,
    ``save``, ``load``. Fields with ``field(metadata={"json": False})`` are not saved."""

    def to_dict(self) -> dict:
        return to_jsonable(self)

    @classmethod
    def from_dict(cls, data: dict):
        return _from_dict(cls, data)

    def to_json(self, indent: int | None = 1) -> str:
        return dumps(self, indent)

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(json.loads(text))

    def save(self, path) -> Path:
        return save_json(self, path)

    @classmethod
    def load(cls, path):
        return load_json(cls, path)


@dataclasses.dataclass
class RunInfo(JSONResult):
    """Provenance of a run: seeds, wall time (s), versions of the library and its stack."""

    seeds: list[int] = dataclasses.field(default_factory=list)
    wall_time_s: float = 0.0
    library_version: str = ""
    torch_version: str = ""
    numpy_version: str = ""
    python_version: str = ""
    platform: str = ""
    torch_threads: int = 1
    backend: str = ""  # e.g. "ensemble" or "sequential" training


def run_info(seeds, wall_time_s: float, backend: str = "") -> RunInfo:
    """A :class:`RunInfo` for the current interpreter."""
    from .. import __version__

    return RunInfo(seeds=[int(s) for s in seeds], wall_time_s=float(wall_time_s),
                   library_version=str(__version__), torch_version=str(torch.__version__),
                   numpy_version=np.__version__, python_version=sys.version.split()[0],
                   platform=platform.platform(terse=True), torch_threads=torch.get_num_threads(),
                   backend=backend)


def format_ci(mean, lo=None, hi=None, digits: int = 2) -> str:
    """``"mean [lo, hi]"`` for the reports; ``mean`` alone without an interval, ``"n/a"``
    without a mean. ``mean`` may also be a dict with keys "mean", "lo", "hi"."""
    if isinstance(mean, dict):
        mean, lo, hi = mean["mean"], mean["lo"], mean["hi"]
    if mean is None or math.isnan(mean):
        return "n/a"
    if lo is None or math.isnan(lo):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def markdown_table(header, rows) -> str:
    """A Markdown table (for the reports): a header row, then one line per row of cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


# ---------------------------------------------------------------------------- statistics
# Two-sided 95 % quantiles t_{0.975, df} for df = 1..30; the normal value beyond.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t_quantile(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom (95 % two-sided)."""
    if df < 1:
        return math.nan
    return _T975[df - 1] if df <= len(_T975) else 1.96 + 2.5 / df  # within 0.002 for df > 30


def mean_ci(values, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95 % t-interval ``(mean, lo, hi)`` along ``axis`` (e.g. over seeds); NaNs are
    ignored. Where fewer than two finite values remain the interval is NaN (the mean is NaN
    where none remain)."""
    v = np.asarray(values, dtype=float)
    v = np.moveaxis(v[None] if v.ndim == 0 else v, axis, 0)
    ok = np.isfinite(v)
    n = ok.sum(0)
    filled = np.where(ok, v, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, filled.sum(0) / np.maximum(n, 1), np.nan)
        dev2 = np.where(ok, (v - mean) ** 2, 0.0).sum(0)
        sd = np.sqrt(dev2 / np.maximum(n - 1, 1))
    q = np.vectorize(lambda k: t_quantile(int(k) - 1), otypes=[float])(n)
    half = np.where(n > 1, q * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    return mean, mean - half, mean + half


def diff_ci(values_a, values_b) -> dict:
    """Difference of means ``a - b`` with a Welch 95 % interval (conservative degrees of
    freedom ``min(n_a, n_b) - 1``): ``{"diff", "lo", "hi"}``; NaN with fewer than 2 each."""
    a, b = np.asarray(values_a, float), np.asarray(values_b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return {"diff": math.nan, "lo": math.nan, "hi": math.nan}
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    d = float(a.mean() - b.mean())
    half = t_quantile(min(len(a), len(b)) - 1) * se
    return {"diff": d, "lo": d - half, "hi": d + half}


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion k / n (95 % for z = 1.96); unlike
    a t-interval it stays inside [0, 1] and is not empty at k = 0 or k = n."""
    if n <= 0:
        return (math.nan, math.nan)
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n (k successes out of n), got k={k}, n={n}")
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)  # exact ends (no rounding below 1)
    return (lo, hi)
