"""Context -> modulation: how a task signal ``c`` (B, K) switches a shared network.

=============  ===================================================  ======================
modulator      what the context changes                             parameters per task
=============  ===================================================  ======================
RuleInput      constant drive ``d_c = W_rule c`` (Yang et al. 2019)   N
Excitability   gain ``g_c = 1 + G c`` and/or bias ``b_c = B c``       N (gain or bias), 2N
Synaptic       ``W_c = W_rec + sum_k c_k M_k N_k^T`` (rank R)         2 R N
Combined       excitability and synaptic from the same ``c``          sum of the two
=============  ===================================================  ======================

The synaptic term is never formed as a matrix: the network computes
``left @ ((c repeated R times) * (right^T r))``, which costs O(N K R) per trial instead of
O(N^2 K). Because the sum runs over tasks, a blended context ``c = (1-l) e_i + l e_j`` means
exactly "(1-l) of task i's synapses plus l of task j's".

``init_std`` sets the initial scale of the context pathway. Comparisons between mechanisms
must match it (DESIGN.md: a zero-initialised gain/bias pathway can fail where a random start
succeeds). For the synaptic modulator ``init_std`` is the std of the *effective* per-neuron
effect ``(m (n . r)) / |r|_rms``: entries of ``m`` and ``n`` are drawn with std
``sqrt(init_std / sqrt(N))``, so the same ``init_std`` means a comparable initial effect.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from ._validate import check_int, check_number, is_int
from .rnn import CTRNN, ContextEffect, RNNConfig, RNNOutput, _check_tensor, validate_rnn_fields

MECHANISMS = ("none", "rule", "excitability", "gain", "bias", "synaptic", "combined")


class Modulator(nn.Module):
    """Base class: ``forward(context (B, K)) -> ContextEffect``."""

    def __init__(self, n_contexts: int, n_hidden: int):
        super().__init__()
        self.n_contexts = check_int(n_contexts, "n_contexts")
        self.n_hidden = check_int(n_hidden, "n_hidden")

    def check_context(self, context):
        _check_tensor("context", context, 2, self.n_contexts)

    def params_per_task(self) -> int:
        return sum(p.numel() for p in self.parameters()) // self.n_contexts


class NoModulation(Modulator):
    """Ignores the context (a single-task network)."""

    def forward(self, context):
        self.check_context(context)
        return ContextEffect()


class RuleInput(Modulator):
    """The baseline: the context enters as extra input channels, ``d_c = W_rule c``."""

    def __init__(self, n_contexts, n_hidden, init_std=0.33, seed=0):
        super().__init__(n_contexts, n_hidden)
        gen = torch.Generator().manual_seed(seed)
        self.W_rule = nn.Parameter(init_std * torch.randn(n_hidden, n_contexts, generator=gen))

    def forward(self, context):
        self.check_context(context)
        return ContextEffect(drive=context @ self.W_rule.T)


class Excitability(Modulator):
    """Per-neuron gain ``g_c = 1 + G c`` and/or threshold shift ``b_c = B c``; shared synapses."""

    def __init__(self, n_contexts, n_hidden, gain=True, bias=True, init_std=0.33, seed=0):
        super().__init__(n_contexts, n_hidden)
        if not (gain or bias):
            raise ValueError("Excitability needs gain=True, bias=True or both")
        gen = torch.Generator().manual_seed(seed)
        shape = (n_hidden, n_contexts)
        self.G = nn.Parameter(init_std * torch.randn(shape, generator=gen)) if gain else None
        self.B = nn.Parameter(init_std * torch.randn(shape, generator=gen)) if bias else None

    def forward(self, context):
        self.check_context(context)
        return ContextEffect(
            gain=None if self.G is None else 1 + context @ self.G.T,
            bias=None if self.B is None else context @ self.B.T,
        )


class Synaptic(Modulator):
    """Low-rank context-dependent synapses ``W_c = W_rec + sum_k c_k M_k N_k^T``.

    ``left`` and ``right`` are (N, K * R): columns ``k*R .. k*R + R - 1`` belong to task k.
    """

    def __init__(self, n_contexts, n_hidden, rank=1, init_std=0.33, seed=0):
        super().__init__(n_contexts, n_hidden)
        self.rank = rank = check_int(rank, "rank")
        gen = torch.Generator().manual_seed(seed)
        std = math.sqrt(init_std / math.sqrt(n_hidden))
        shape = (n_hidden, n_contexts * rank)
        self.left = nn.Parameter(std * torch.randn(shape, generator=gen))
        self.right = nn.Parameter(std * torch.randn(shape, generator=gen))

    def forward(self, context):
        self.check_context(context)
        coef = context.repeat_interleave(self.rank, dim=1)
        return ContextEffect(left=self.left, right=self.right, coef=coef)

    def dense(self, W_rec, context):
        """Reference: the full (B, N, N) matrices W_c, for tests and teaching only."""
        self.check_context(context)
        m = self.left.T.reshape(self.n_contexts, self.rank, self.n_hidden)
        n = self.right.T.reshape(self.n_contexts, self.rank, self.n_hidden)
        delta = torch.einsum("bk,krm,krn->bmn", context, m, n)
        return W_rec + delta


class Combined(Modulator):
    """Excitability and synaptic modulation driven by the same context."""

    def __init__(self, n_contexts, n_hidden, rank=1, gain=True, bias=True, init_std=0.33,
                 seed=0):
        super().__init__(n_contexts, n_hidden)
        self.excitability = Excitability(n_contexts, n_hidden, gain, bias, init_std, seed)
        self.synaptic = Synaptic(n_contexts, n_hidden, rank, init_std, seed + 1)

    def forward(self, context):
        return self.excitability(context).merge(self.synaptic(context))


@dataclass
class ModelConfig:
    """Everything needed to rebuild a :class:`ModulatedRNN`; checkpoints store it flat
    (``asdict``). The modulator's fields (``mechanism``, ``n_contexts``, ``rank``,
    ``init_std``) and every field of :class:`~neuromodlab.rnn.RNNConfig`, with its defaults
    and its checks."""

    mechanism: str
    n_in: int
    n_out: int
    n_contexts: int
    n_hidden: int = RNNConfig.n_hidden
    rank: int = 1
    init_std: float = 0.33
    dt: float = RNNConfig.dt
    tau: float = RNNConfig.tau
    activation: str = RNNConfig.activation
    sigma_rec: float = RNNConfig.sigma_rec
    init: str = RNNConfig.init
    w_rec_gain: float = RNNConfig.w_rec_gain
    seed: int = RNNConfig.seed

    def __post_init__(self):
        if self.mechanism not in MECHANISMS:
            raise ValueError(f"ModelConfig.mechanism must be one of {MECHANISMS}, "
                             f"got {self.mechanism!r}")
        self.n_contexts = check_int(self.n_contexts, "ModelConfig.n_contexts")
        self.rank = check_int(self.rank, "ModelConfig.rank")
        self.init_std = check_number(self.init_std, "ModelConfig.init_std", 0)
        validate_rnn_fields(self, "ModelConfig")

    def rnn_config(self) -> RNNConfig:
        return RNNConfig(**{f.name: getattr(self, f.name) for f in fields(RNNConfig)})


def make_modulator(mechanism, n_contexts, n_hidden, rank=1, init_std=0.33, seed=0) -> Modulator:
    """Build a modulator by name (one of ``MECHANISMS``)."""
    if mechanism not in MECHANISMS:
        raise ValueError(f"mechanism must be one of {MECHANISMS}, got {mechanism!r}")
    if mechanism == "none":
        return NoModulation(n_contexts, n_hidden)
    if mechanism == "rule":
        return RuleInput(n_contexts, n_hidden, init_std, seed)
    if mechanism in ("excitability", "gain", "bias"):
        return Excitability(n_contexts, n_hidden, gain=mechanism != "bias",
                            bias=mechanism != "gain", init_std=init_std, seed=seed)
    if mechanism == "synaptic":
        return Synaptic(n_contexts, n_hidden, rank, init_std, seed)
    return Combined(n_contexts, n_hidden, rank, init_std=init_std, seed=seed)


class ModulatedRNN(nn.Module):
    """A :class:`CTRNN` whose context reaches it through one modulator."""

    def __init__(self, config: ModelConfig, modulator: Modulator | None = None):
        super().__init__()
        self.config = config
        self.rnn = CTRNN(config.rnn_config())
        self.modulator = modulator if modulator is not None else make_modulator(
            config.mechanism, config.n_contexts, config.n_hidden, config.rank,
            config.init_std, config.seed + 1000)
        if self.modulator.n_hidden != config.n_hidden:
            raise ValueError(f"modulator has n_hidden={self.modulator.n_hidden}, "
                             f"the network has {config.n_hidden}")

    def effect(self, context) -> ContextEffect:
        return self.modulator(context)

    def step(self, x, u, context, noise=None):
        """The one-step map under a context (B, K); used by fixed-point analysis."""
        return self.rnn.step(x, u, self.effect(context), noise)

    def forward(self, inputs, context, x0=None, generator=None, noise=True) -> RNNOutput:
        """inputs (T, B, n_in), context (B, K) -> RNNOutput (outputs, rates, states)."""
        if (isinstance(context, torch.Tensor) and context.ndim == 2
                and isinstance(inputs, torch.Tensor) and inputs.ndim == 3
                and context.shape[0] != inputs.shape[1]):
            raise ValueError(f"context has {context.shape[0]} rows but inputs have batch size "
                             f"{inputs.shape[1]}")
        return self.rnn(inputs, self.effect(context), x0, generator, noise)

    def params_per_task(self) -> int:
        return self.modulator.params_per_task()

    def shared_parameters(self):
        return list(self.rnn.parameters())

    def describe(self) -> dict:
        return {**asdict(self.config), "params_per_task": self.params_per_task()}


def build_model(mechanism, n_in, n_out, n_contexts, **kwargs) -> ModulatedRNN:
    """Shortcut: ``build_model('synaptic', n_in, n_out, K, n_hidden=32, rank=1)``."""
    return ModulatedRNN(ModelConfig(mechanism, n_in, n_out, n_contexts, **kwargs))


# ---------------------------------------------------------------- contexts for ambiguity
def one_hot(i, n_contexts, batch_size=None):
    """e_i as a float vector (K,), or repeated to (B, K)."""
    n_contexts = check_int(n_contexts, "n_contexts")
    if not is_int(i) or not 0 <= i < n_contexts:
        error = ValueError if is_int(i) else TypeError
        raise error(f"task index must be an int in [0, n_contexts = {n_contexts}), got {i!r}")
    c = torch.zeros(n_contexts)
    c[i] = 1.0
    return c if batch_size is None else c.expand(batch_size, n_contexts).clone()


def mix_context(i, j, l, n_contexts, batch_size=None):  # noqa: E741 (the paper-style name)
    """The blended cue ``c = (1 - l) e_i + l e_j``, with ``l`` in [0, 1]."""
    check_number(float(l), "blend l", 0, 1)
    return (1 - l) * one_hot(i, n_contexts, batch_size) + l * one_hot(j, n_contexts, batch_size)


def weak_context(context, strength):
    """A weakened cue ``strength * c`` (strength in [0, 1])."""
    check_number(float(strength), "strength", 0, 1)
    return strength * context


def noisy_context(context, std, generator=None):
    """A cue corrupted by Gaussian noise of standard deviation ``std`` on every channel."""
    if not isinstance(context, torch.Tensor):
        raise TypeError(f"context must be a torch.Tensor, got {type(context).__name__}")
    check_number(float(std), "std", 0)
    noise = torch.randn(context.shape, generator=generator, dtype=context.dtype)
    return context + std * noise
