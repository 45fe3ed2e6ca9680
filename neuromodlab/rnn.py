"""The continuous-time rate RNN, discretised with Euler's method.

With ``alpha = dt / tau``::

    x[t+1] = (1 - alpha) * x[t] + alpha * (W_rec @ r[t] + W_in @ u[t] + b + d_c)
             + sqrt(2 * alpha) * sigma_rec * xi[t]
    r[t]   = phi(g_c * x[t] + b_c)
    y[t]   = W_out @ r[t] + b_out

Shapes: ``x, r`` are ``(B, N)``; inputs ``u`` are ``(T, B, n_in)`` for a rollout and
``(B, n_in)`` for one step. The context enters only through a :class:`ContextEffect`
(gain ``g_c``, bias ``b_c``, drive ``d_c``, low-rank recurrent term), built by a modulator
in :mod:`neuromodlab.modulation`. The output at step ``t`` reads the state reached after
consuming input ``t``.

:meth:`CTRNN.step` is the readable one-step map. :meth:`CTRNN.forward` runs the same equation
over time in :mod:`neuromodlab.bptt` (a hand-written backpropagation through time, to keep
training fast); ``forward(..., fused=False)`` runs it as a plain autograd loop instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from ._validate import check_int, check_number
from .bptt import FUSED_ACTIVATIONS, fused_rollout

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "softplus": F.softplus,
    "tanh": torch.tanh,
}
INITS = ("diagonal", "orthogonal", "gaussian")


def euler_step(x, u, W_rec, W_in, b, alpha, activation=torch.relu, noise=None):
    """One Euler step of the unmodulated network (the equation in the module docstring).

    ``x`` (B, N), ``u`` (B, n_in), ``W_rec`` (N, N), ``W_in`` (N, n_in), ``b`` (N,).
    ``noise`` is the whole additive noise term (already scaled), or None.
    """
    r = activation(x)
    x_next = (1 - alpha) * x + alpha * (r @ W_rec.T + u @ W_in.T + b)
    if noise is not None:
        x_next = x_next + noise
    return x_next


@dataclass
class ContextEffect:
    """What a context does to the network, for a batch of B trials.

    gain, bias, drive: (B, N) or None. Low rank: ``left`` and ``right`` are (N, P) and
    ``coef`` is (B, P); the recurrent input becomes ``W_rec r + left @ (coef * (right^T r))``.
    """

    gain: torch.Tensor | None = None
    bias: torch.Tensor | None = None
    drive: torch.Tensor | None = None
    left: torch.Tensor | None = None
    right: torch.Tensor | None = None
    coef: torch.Tensor | None = None

    @property
    def has_lowrank(self) -> bool:
        return self.left is not None

    def merge(self, other: ContextEffect) -> ContextEffect:
        """Combine two effects that touch different parts of the network."""
        fields = {}
        for name in ("gain", "bias", "drive", "left", "right", "coef"):
            a, b = getattr(self, name), getattr(other, name)
            if a is not None and b is not None:
                raise ValueError(f"both effects set '{name}'; combine modulators that act on "
                                 "different parts of the network")
            fields[name] = a if a is not None else b
        return ContextEffect(**fields)


class RNNOutput(NamedTuple):
    outputs: torch.Tensor  # (T, B, n_out)
    rates: torch.Tensor  # (T, B, N)
    states: torch.Tensor  # (T, B, N)


@dataclass
class RNNConfig:
    """Sizes and constants of a :class:`CTRNN`. Times are in ms."""

    n_in: int
    n_out: int
    n_hidden: int = 64
    dt: float = 20.0
    tau: float = 100.0
    activation: str = "relu"
    sigma_rec: float = 0.05
    init: str = "diagonal"
    w_rec_gain: float = 0.5
    seed: int = 0

    def __post_init__(self):
        validate_rnn_fields(self, "RNNConfig")

    @property
    def alpha(self) -> float:
        return self.dt / self.tau


def validate_rnn_fields(config, owner: str) -> None:
    """Check (and normalise to Python types) the RNNConfig fields of ``config``: shared by
    :class:`RNNConfig` and :class:`neuromodlab.modulation.ModelConfig` (``owner`` names it)."""
    def put(name, value):
        object.__setattr__(config, name, value)

    for name in ("n_in", "n_out", "n_hidden"):
        put(name, check_int(getattr(config, name), f"{owner}.{name}"))
    put("seed", check_int(config.seed, f"{owner}.seed", None))
    for name in ("dt", "tau"):
        put(name, check_number(getattr(config, name), f"{owner}.{name}", 0, strict=True))
    put("sigma_rec", check_number(config.sigma_rec, f"{owner}.sigma_rec", 0))
    put("w_rec_gain", check_number(config.w_rec_gain, f"{owner}.w_rec_gain"))
    if config.dt > config.tau:
        raise ValueError(f"{owner}.dt ({config.dt:g} ms) must not exceed tau ({config.tau:g} ms):"
                         " alpha = dt / tau must be <= 1 for a stable Euler step")
    if config.activation not in ACTIVATIONS:
        raise ValueError(f"{owner}.activation must be one of {sorted(ACTIVATIONS)}, "
                         f"got {config.activation!r}")
    if config.init not in INITS:
        raise ValueError(f"{owner}.init must be one of {INITS}, got {config.init!r}")


def _check_tensor(name, t, ndim, last=None):
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    if t.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(t.shape)}")
    if last is not None and t.shape[-1] != last:
        raise ValueError(f"{name} must have last dimension {last}, got shape {tuple(t.shape)}")
    if t.numel() and torch.isnan(t.sum()) and torch.isnan(t).any():  # a NaN makes the sum NaN
        raise ValueError(f"{name} contains NaN")


class CTRNN(nn.Module):
    """Continuous-time RNN with a public one-step map (:meth:`step`) and a rollout."""

    fused = True  # forward's default time loop: fused (True) or the eager reference (False)

    def __init__(self, config: RNNConfig):
        super().__init__()
        self.config = config
        n, gen = config.n_hidden, torch.Generator().manual_seed(config.seed)
        w_in = torch.randn(n, config.n_in, generator=gen) / math.sqrt(config.n_in)
        self.W_in = nn.Parameter(w_in)
        self.W_rec = nn.Parameter(self._init_rec(config, gen))
        self.b = nn.Parameter(torch.zeros(n))
        self.W_out = nn.Parameter(torch.randn(config.n_out, n, generator=gen) / math.sqrt(n))
        self.b_out = nn.Parameter(torch.zeros(config.n_out))
        self.phi = ACTIVATIONS[config.activation]

    @staticmethod
    def _init_rec(config, gen):
        n, g = config.n_hidden, config.w_rec_gain
        if config.init == "diagonal":
            return g * torch.eye(n)
        if config.init == "orthogonal":
            q, r = torch.linalg.qr(torch.randn(n, n, generator=gen))
            return g * q * torch.sign(torch.diagonal(r))
        return g * torch.randn(n, n, generator=gen) / math.sqrt(n)

    @property
    def alpha(self) -> float:
        return self.config.alpha

    @property
    def noise_std(self) -> float:
        """Standard deviation of the per-step recurrent noise, sqrt(2 alpha) sigma_rec."""
        return math.sqrt(2 * self.alpha) * self.config.sigma_rec

    def rate(self, x, effect: ContextEffect | None = None):
        """r = phi(g_c * x + b_c)."""
        if effect is not None and effect.gain is not None:
            x = x * effect.gain
        if effect is not None and effect.bias is not None:
            x = x + effect.bias
        return self.phi(x)

    def recurrent(self, r, effect: ContextEffect | None = None):
        """W_c r without forming W_c: W_rec r + left (coef * (right^T r))."""
        rec = r @ self.W_rec.T
        if effect is not None and effect.has_lowrank:
            rec = rec + ((r @ effect.right) * effect.coef) @ effect.left.T
        return rec

    def _check_dtype(self, name, t):
        if t.dtype != self.W_in.dtype:
            raise TypeError(f"{name} has dtype {t.dtype} but the network's weights are "
                            f"{self.W_in.dtype}: convert one of them, e.g. {name}.to("
                            f"{self.W_in.dtype}) or net.to({t.dtype})")

    def step(self, x, u, effect: ContextEffect | None = None, noise=None):
        """One Euler step: x (B, N), u (B, n_in) -> x_next (B, N). ``noise`` is additive."""
        for name, t, size in (("x", x, self.config.n_hidden), ("u", u, self.config.n_in)):
            if not isinstance(t, torch.Tensor) or t.ndim == 0 or t.shape[-1] != size:
                got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
                raise ValueError(f"{name} must be a tensor with last dimension {size} "
                                 f"(shape (B, {size})), got {got}")
        r = self.rate(x, effect)
        drive = u @ self.W_in.T + self.b
        if effect is not None and effect.drive is not None:
            drive = drive + effect.drive
        x_next = (1 - self.alpha) * x + self.alpha * (self.recurrent(r, effect) + drive)
        if noise is not None:
            x_next = x_next + noise
        return x_next

    def readout(self, r):
        """y = W_out r + b_out."""
        return F.linear(r, self.W_out, self.b_out)

    def forward(self, inputs, effect: ContextEffect | None = None, x0=None,
                generator: torch.Generator | None = None, noise: bool = True,
                fused: bool | None = None) -> RNNOutput:
        """Roll the network over ``inputs`` (T, B, n_in); returns outputs, rates, states.

        The time loop runs in :func:`neuromodlab.bptt.fused_rollout` (a hand-written
        backward through time; a training step is 2-3x faster, see BENCHMARKS.md) unless
        ``fused=False`` or the attribute ``self.fused`` is False; then it runs as the plain
        autograd loop below, the reference the tests compare against. Both give the same
        numbers (to rounding) and draw the same noise.
        """
        _check_tensor("inputs", inputs, 3, self.config.n_in)
        self._check_dtype("inputs", inputs)
        T, B, _ = inputs.shape
        N = self.config.n_hidden
        x = inputs.new_zeros(B, N) if x0 is None else x0
        if x.shape != (B, N):
            raise ValueError(f"x0 must have shape ({B}, {N}), got {tuple(x.shape)}")
        # drives[t] = W_in u[t] + b + d_c + noise[t] / alpha: everything that does not depend
        # on the state, for all steps at once, built in place (a fresh (T, B, N) tensor costs
        # hundreds of page faults)
        if noise and self.config.sigma_rec > 0:
            xi = torch.randn(T * B, N, generator=generator, dtype=inputs.dtype)  # = (T, B, N)
            drives = xi.addmm_(inputs.reshape(T * B, -1), self.W_in.T,
                               beta=self.noise_std / self.alpha).view(T, B, N).add_(self.b)
        else:
            drives = F.linear(inputs, self.W_in, self.b)
        if effect is not None and effect.drive is not None:
            drives.add_(effect.drive)
        activation = self._activation_name()
        if (self.fused if fused is None else fused) and activation is not None:
            e = effect if effect is not None else ContextEffect()
            states, rates = fused_rollout(x, drives, self.W_rec, self.alpha, activation,
                                          e.gain, e.bias, e.left, e.right, e.coef)
        else:
            states = []
            for t in range(T):
                r = self.rate(x, effect)
                x = torch.lerp(x, self.recurrent(r, effect) + drives[t], self.alpha)
                states.append(x)
            states = torch.stack(states)
            rates = self.rate(states, effect)
        return RNNOutput(self.readout(rates), rates, states)

    def _activation_name(self) -> str | None:
        """The name of ``self.phi`` if the fused rollout supports it, else None."""
        for name in FUSED_ACTIVATIONS:
            if self.phi is ACTIVATIONS[name]:
                return name
        return None

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self.config).items())
