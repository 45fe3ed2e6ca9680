"""Demo: a context-scaled rank-one synaptic term moves one eigenvalue (W1D2 Tutorial 2).

The network (our own toy, in the spirit of Mastrogiuseppe & Ostojic 2018) has a random
"bulk" of shared synapses and one task's rank-one modulation, scaled by the context ``c``::

    W_c = W_rec + c * m n^T,      W_rec ~ bulk_gain * N(0, 1 / N),      n . m = 1

For a random bulk the spectrum of ``W_c`` is a disk of radius ~``bulk_gain`` plus one
*outlier* near ``c * (n . m) = c``. The right panel runs the library's CTRNN (tanh units, no
noise, no input) from a few initial states and plots the activity along ``m``: it decays when
the outlier is left of 1, and settles at a non-zero (remembered) value when it is right of 1.

``show_synaptic_context(c, bulk_gain, seed)`` returns the Figure (drawn by
:func:`neuromodlab.plotting.synaptic.plot_rank_one_context`; nothing is shown);
``synaptic_demo()`` wraps it in sliders and a dropdown (ipywidgets 7 and 8).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..plotting.synaptic import plot_rank_one_context
from ..rnn import CTRNN, ContextEffect, RNNConfig
from ..train import torch_threads

C_RANGE = (-0.5, 2.5)
BULK_GAINS = (0.3, 0.5, 0.8)
SEED_RANGE = (0, 10)
N_HIDDEN = 100
DURATION_MS = 1500.0


def rank_one_network(n_hidden: int = N_HIDDEN, bulk_gain: float = 0.5, seed: int = 0):
    """``W_rec`` (N, N) random with spectral radius ~bulk_gain, and ``m, n`` (N,) with n . m = 1.

    ``m`` has entries of order 1 (|m|^2 = N) and ``n = m / N``, so a state along ``m`` has
    rates of order 1 and the rank-one term's only eigenvalue is exactly ``n . m = 1``.
    """
    gen = torch.Generator().manual_seed(int(seed))
    W_rec = bulk_gain * torch.randn(n_hidden, n_hidden, generator=gen) / math.sqrt(n_hidden)
    m = torch.randn(n_hidden, generator=gen)
    m = m * math.sqrt(n_hidden) / m.norm()
    n = m / n_hidden
    return W_rec, m, n


def simulate(W_rec, m, n, c: float, x0, duration_ms: float = DURATION_MS, dt: float = 20.0,
             tau: float = 100.0):
    """States (T, B, N) of the tanh CTRNN with recurrent weights ``W_rec + c m n^T`` from x0."""
    N = W_rec.shape[0]
    net = CTRNN(RNNConfig(n_in=1, n_out=1, n_hidden=N, dt=dt, tau=tau, activation="tanh",
                          sigma_rec=0.0))
    with torch.no_grad(), torch_threads(1):  # tiny sizes: a second thread only stalls
        net.W_rec.copy_(W_rec)
        net.W_in.zero_()
        effect = ContextEffect(left=m[:, None], right=n[:, None],
                               coef=torch.full((x0.shape[0], 1), float(c)))
        T = int(round(duration_ms / dt))
        return net(torch.zeros(T, x0.shape[0], 1), effect, x0=x0, noise=False).states


def show_synaptic_context(c: float = 1.0, bulk_gain: float = 0.5, seed: int = 0,
                          n_hidden: int = N_HIDDEN):
    """Eigenvalues of ``W_c = W_rec + c m n^T`` and activity along ``m``; returns the Figure."""
    W_rec, m, n = rank_one_network(n_hidden, bulk_gain, seed)
    W_c = W_rec + float(c) * torch.outer(m, n)
    eig = torch.linalg.eigvals(W_c.double()).numpy()

    gen = torch.Generator().manual_seed(int(seed) + 1)
    starts = [0.6, 0.2, -0.2, -0.6]  # initial position along m (units of m), plus a little noise
    x0 = torch.stack([a * m + 0.3 * torch.randn(n_hidden, generator=gen) for a in starts])
    states = simulate(W_rec, m, n, c, x0)
    kappa = (states @ m / (m @ m)).numpy()  # (T, B): coordinate along m
    t_ms = (np.arange(states.shape[0]) + 1) * 20.0

    return plot_rank_one_context(eig, c, bulk_gain, t_ms, kappa, starts, n_hidden=n_hidden,
                                 seed=seed, c_range=C_RANGE)


def synaptic_demo(c: float = 0.5):
    """An ``ipywidgets.interactive`` around :func:`show_synaptic_context`."""
    import ipywidgets as widgets

    def update(c, bulk_gain, seed):
        fig = show_synaptic_context(c, bulk_gain, seed)
        plt.show()
        plt.close(fig)

    return widgets.interactive(
        update,
        c=widgets.FloatSlider(value=c, min=C_RANGE[0], max=C_RANGE[1], step=0.1,
                              description="context c", continuous_update=False),
        bulk_gain=widgets.Dropdown(options=list(BULK_GAINS), value=0.5,
                                   description="bulk gain"),
        seed=widgets.IntSlider(value=0, min=SEED_RANGE[0], max=SEED_RANGE[1], step=1,
                               description="seed", continuous_update=False),
    )
