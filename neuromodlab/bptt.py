"""A fused rollout of the CTRNN with a hand-written backpropagation through time.

Same equation as :mod:`neuromodlab.rnn` (``a = alpha``, ``x[0] = x0``, ``t = 0 .. T-1``)::

    z[t]   = g * x[t] + b_c                       (g, b_c: gain and bias, optional)
    r[t]   = phi(z[t])
    x[t+1] = (1 - a) * x[t] + a * (W r[t] + L (c * (R^T r[t])) + d[t])

``d`` (T, B, N) is everything that does not depend on the state (``W_in u + b + d_c`` plus the
noise divided by ``a``); it is computed outside with ordinary autograd, so the gradients of
``W_in``, ``b``, the rule drive and the noise flow through it automatically. ``L, R`` (N, P)
and ``c`` (B, P) are the optional low-rank term. The outputs are the states ``x[1..T]`` and
the rates ``r[1..T]`` (both (T, B, N)); the readout is computed outside from the rates.

Why: an eager loop records ~10 autograd nodes per time step, and at our sizes (N <= 128) the
per-node overhead costs more than the arithmetic. Here the forward runs under no_grad with 3
(up to 7, with gain, bias and low rank) in-place ops per step on preallocated rows, and the
backward is the adjoint recursion, with ``lam[t]`` = dLoss/dx[t] and ``q[t]`` = dLoss/dr[t]::

    q[t]   = dLoss/dr[t] (direct) + a * (W^T lam[t+1] + R (c * (L^T lam[t+1])))
    lam[t] = dLoss/dx[t] (direct) + (1 - a) * lam[t+1] + g * phi'(z[t]) * q[t]

with 3 (up to 6) ops per step. Every parameter gradient is then one large matmul or reduction
over the stacked (T*B, N) tensors, after the loop::

    dW  = a * sum_t lam[t+1] r[t]^T      dd[t] = a * lam[t+1]       dz[t] = phi'(z[t]) q[t]
    dg  = sum_t dz[t] * x[t]             db_c  = sum_t dz[t]        dx0   = lam[0]
    dL  = a * sum_t lam[t+1] (c * R^T r[t])^T,  dR and dc likewise

``phi'`` is taken from the saved rates, as torch's own backward formulas do (relu: 1 where
r > 0; tanh: 1 - r^2; softplus: 1 - exp(-r), and 1 above torch's threshold of 20).
``tests/test_bptt.py`` checks it with gradcheck and against the eager loop of ``rnn.py``;
``benchmarks/bench_train_step.py`` measures it (BENCHMARKS.md).
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

FUSED_ACTIVATIONS = ("relu", "softplus", "tanh")
_SOFTPLUS_THRESHOLD = 20.0  # torch.nn.functional.softplus's default: identity above it


def _activate(z, activation, out, inplace):
    """out = phi(z); ``inplace`` means z is out."""
    if activation == "relu":
        return z.clamp_min_(0) if inplace else torch.clamp_min(z, 0, out=out)
    if activation == "tanh":
        return z.tanh_() if inplace else torch.tanh(z, out=out)
    return out.copy_(torch.nn.functional.softplus(z))


def _derivative(r, activation):
    """phi'(z) written in terms of r = phi(z), matching torch's backward formulas."""
    if activation == "relu":
        return torch.sign(r)  # r >= 0; 10x faster than (r > 0).to(dtype) here
    if activation == "tanh":
        return 1 - r * r
    d = -torch.expm1(-r)  # sigmoid(z) = 1 - exp(-softplus(z))
    return torch.where(r > _SOFTPLUS_THRESHOLD, torch.ones_like(d), d)


def _rate(x, gain, bias, activation, out):
    """out = phi(gain * x + bias) with as few ops as the present terms allow."""
    if gain is None and bias is None:
        return _activate(x, activation, out, inplace=False)
    if gain is not None and bias is not None:
        torch.addcmul(bias, x, gain, out=out)
    elif gain is not None:
        torch.mul(x, gain, out=out)
    else:
        torch.add(x, bias, out=out)
    return _activate(out, activation, out, inplace=True)


def _rollout(x0, drives, W, alpha, activation, gain, bias, left, right, coef):
    """The forward loop (no autograd): states x[1..T] (T, B, N), rates r[0..T] (T+1, B, N)."""
    T, B, N = drives.shape
    states = torch.mul(drives, alpha)  # x[t+1] is built in place: a d[t] + ...
    rates = drives.new_empty(T + 1, B, N)
    aWT = (alpha * W).t().contiguous()
    lowrank = left is not None
    if lowrank:  # column-major thin matrices: MKL's faster layout for (B, N) @ (N, P)
        aleftT, right = (alpha * left).t().contiguous(), right.t().contiguous().t()
    s_out, r_out = states.unbind(0), rates.unbind(0)
    x = x0
    for t in range(T):
        r = _rate(x, gain, bias, activation, r_out[t])
        x_next = s_out[t].add_(x, alpha=1 - alpha)  # in-place ops: no temporaries, no copies
        x_next.addmm_(r, aWT)
        if lowrank:
            x_next.addmm_(torch.mm(r, right).mul_(coef), aleftT)
        x = x_next
    _rate(x, gain, bias, activation, r_out[T])
    return states, rates


class _FusedRollout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x0, drives, W, gain, bias, left, right, coef, alpha, activation):
        with torch.no_grad():
            states, rates = _rollout(x0, drives, W, alpha, activation, gain, bias, left,
                                     right, coef)
        ctx.save_for_backward(x0, W, gain, bias, left, right, coef, states, rates)
        ctx.alpha, ctx.activation = alpha, activation
        ctx.set_materialize_grads(False)  # an unused output gets None, not a zero tensor
        return states, rates[1:]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_states, grad_rates):
        x0, W, gain, bias, left, right, coef, states, rates = ctx.saved_tensors
        a, act = ctx.alpha, ctx.activation
        need = ctx.needs_input_grad
        T, B, N = states.shape
        lowrank = left is not None
        if grad_states is None and grad_rates is None:
            return (None,) * 10
        gs_ = None if grad_states is None else grad_states.contiguous().unbind(0)

        # M[t] = g * phi'(z[t]): the Jacobian diagonal from x[t] to r[t], t = 0..T
        dphi = _derivative(rates, act)
        M = dphi * gain if gain is not None else dphi
        aW = a * W
        if lowrank:
            aleftT, rightT = (a * left).t().contiguous(), right.t().contiguous()
            aleft = aleftT.t()  # column-major, as in the forward

        lam = states.new_empty(T, B, N)  # lam[t] = dLoss/dx[t+1], t = 0..T-1
        q = rates.new_empty(T + 1, B, N)  # q[t] = dLoss/dr[t], t = 0..T; direct part first
        if grad_rates is None:
            q.zero_()
        else:
            q[0].zero_()
            q[1:].copy_(grad_rates)
        lam_, q_, M_ = lam.unbind(0), q.unbind(0), M.unbind(0)
        if gs_ is None:
            torch.mul(M_[T], q_[T], out=lam_[T - 1])
        else:
            torch.addcmul(gs_[T - 1], M_[T], q_[T], out=lam_[T - 1])
        for t in range(T - 1, -1, -1):
            q_[t].addmm_(lam_[t], aW)
            if lowrank:
                q_[t].addmm_(torch.mm(lam_[t], aleft).mul_(coef), rightT)
            if t > 0:
                if gs_ is None:
                    torch.mul(lam_[t], 1 - a, out=lam_[t - 1])
                else:
                    torch.add(gs_[t - 1], lam_[t], alpha=1 - a, out=lam_[t - 1])
                lam_[t - 1].addcmul_(M_[t], q_[t])

        # parameter gradients as large matmuls and reductions over all steps; large buffers
        # are reused in place (each fresh 1 MB tensor costs page faults)
        g_x0 = g_drives = g_W = g_gain = g_bias = g_left = g_right = g_coef = None
        if need[0]:
            g_x0 = torch.addcmul((1 - a) * lam[0], M[0], q[0])
        lam2, r2 = lam.view(T * B, N), rates[:T].view(T * B, N)
        if need[2]:
            g_W = a * (lam2.t() @ r2)
        if lowrank and any(need[5:8]):
            # transposed (P, T*B) layout: (P, TB) @ (TB, N) is ~6x faster than (N, TB) @ (TB, P)
            P = left.shape[1]
            cT = coef.t().unsqueeze(1)  # (P, 1, B)
            sT = (rightT @ r2.t()).view(P, T, B)  # R^T r[t]
            if need[5]:
                g_left = (a * ((sT * cT).view(P, T * B) @ lam2)).t()
            if need[6] or need[7]:
                hT = (aleftT @ lam2.t()).view(P, T, B)  # a L^T lam[t+1]
                if need[6]:
                    g_right = ((hT * cT).view(P, T * B) @ r2).t()
                if need[7]:
                    g_coef = (hT * sT).sum(1).t().sum_to_size(coef.shape)
        if need[3] or need[4]:
            dz = q.mul_(dphi)  # dLoss/dz[t], t = 0..T
            if need[4]:
                g_bias = dz.sum(0).sum_to_size(bias.shape)
            if need[3]:
                g_gain = dz[0] * x0 + dz[1:].mul_(states).sum(0)
                g_gain = g_gain.sum_to_size(gain.shape)
        if need[1]:
            g_drives = lam.mul_(a)
        return g_x0, g_drives, g_W, g_gain, g_bias, g_left, g_right, g_coef, None, None


def fused_rollout(x0, drives, W, alpha, activation="relu", gain=None, bias=None, left=None,
                  right=None, coef=None):
    """States x[1..T] and rates r[1..T] (both (T, B, N)) of the rollout in the module
    docstring, differentiable in every tensor argument by a hand-written backward.

    x0 (B, N); drives (T, B, N); W (N, N); alpha a float in (0, 1]; activation one of
    ``FUSED_ACTIVATIONS``; gain, bias (B, N) or None; left, right (N, P) and coef (B, P),
    all three or none. Works with or without autograd (no double backward).
    """
    if activation not in FUSED_ACTIVATIONS:
        raise ValueError(f"activation must be one of {FUSED_ACTIVATIONS}, got {activation!r}")
    if (left is None) != (right is None) or (left is None) != (coef is None):
        raise ValueError("left, right and coef must be given together (or all None)")
    if drives.ndim != 3 or x0.shape != drives.shape[1:]:
        raise ValueError(f"drives must be (T, B, N) and x0 (B, N), got {tuple(drives.shape)} "
                         f"and {tuple(x0.shape)}")
    if drives.shape[0] == 0:
        raise ValueError("drives must have at least one time step")
    # gain and bias may have any shape that broadcasts to (B, N) (their gradients are summed
    # back to that shape)
    return _FusedRollout.apply(x0, drives.contiguous(), W, gain, bias, left, right, coef,
                               float(alpha), activation)
