"""The recurrence of an ensemble: E networks' rollouts through time as one batched loop.

Shapes: x0 (E, B, N), drives (E, T, B, N) (input, bias, context drive and noise, already
summed), W (E, N, N), gain/bias broadcastable to (E, B, N) (None: 1 and 0), left/right
(E, N, P) and coef (E, B, P) for the low-rank context term (None: none). Each time step is a
handful of batched matmuls (``torch.baddbmm``) and elementwise ops over all E members.

:func:`rollout` runs either :class:`_EnsembleRollout`, an autograd Function whose backward
pass through time is hand-written (the batched version of :mod:`neuromodlab.bptt`, per
member), or (``fused=False``) the plain autograd loop the tests compare it against.
:class:`neuromodlab.ensemble.Ensemble` builds the drives and reads the rates out.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from .bptt import _derivative, _rate  # phi(g x + b) into a buffer, phi' from the rates


class _EnsembleRollout(torch.autograd.Function):
    """x0 (E, B, N), drives (E, T, B, N), W (E, N, N), gain/bias broadcastable to (E, B, N),
    left/right (E, N, P), coef (E, B, P) -> states x[1..T], rates r[1..T] (E, T, B, N).
    The equations and the adjoint recursion are those of :mod:`neuromodlab.bptt`, per member.
    Each step writes straight into the (E, T, ...) buffers (strided ``out=``, as cheap as
    contiguous here); whole-sequence gradients are one batched matmul each."""

    @staticmethod
    def forward(ctx, x0, drives, W, gain, bias, left, right, coef, alpha, activation):
        with torch.no_grad():
            E, T, B, N = drives.shape
            states, rates = torch.empty_like(drives), drives.new_empty(E, T + 1, B, N)
            WT = W.transpose(1, 2).contiguous()
            lowrank = left is not None
            if lowrank:
                leftT = left.transpose(1, 2).contiguous()
            x = x0
            for t in range(T):
                r = _rate(x, gain, bias, activation, rates[:, t])
                pre = torch.baddbmm(drives[:, t], r, WT)
                if lowrank:
                    pre.baddbmm_(torch.bmm(r, right).mul_(coef), leftT)
                x = torch.lerp(x, pre, alpha, out=states[:, t])
            _rate(x, gain, bias, activation, rates[:, T])
        ctx.save_for_backward(x0, W, gain, bias, left, right, coef, states, rates)
        ctx.alpha, ctx.activation = alpha, activation
        ctx.set_materialize_grads(False)
        return states, rates[:, 1:]

    @staticmethod
    @once_differentiable
    def backward(ctx, gs, gr):
        # mu[:, t] = a * dLoss/dx[t+1] (= dLoss/d drives[t]); dz[t] = dLoss/dz[t];
        # q[t] = dLoss/dr[t] = gr[t-1] + W^T mu[t] (+ low rank); mu[t-1] = lerp(mu[t], gain
        # dz[t], a) + a gs[t-1]. Gain/bias gradients accumulate step by step (in cache).
        x0, W, gain, bias, left, right, coef, states, rates = ctx.saved_tensors
        a, need = ctx.alpha, ctx.needs_input_grad
        E, T, B, N = states.shape
        gr = rates.new_zeros(E, T, B, N) if gr is None else gr.contiguous()
        lowrank, act = left is not None, ctx.activation
        if lowrank:
            rightT = right.transpose(1, 2).contiguous()
        need_gain, need_bias = gain is not None and need[3], bias is not None and need[4]
        g_gain = torch.zeros_like(x0) if need_gain else None
        g_bias = torch.zeros_like(x0) if need_bias else None
        mu, mu_t = torch.empty_like(states), None
        for t in range(T, -1, -1):
            if t == T:
                q_t = gr[:, T - 1].clone()
            else:
                q_t = torch.baddbmm(gr[:, t - 1], mu_t, W) if t > 0 else torch.bmm(mu_t, W)
                if lowrank:
                    q_t.baddbmm_(torch.bmm(mu_t, left).mul_(coef), rightT)
            if act == "relu":  # q * (r > 0) in one op
                dz_t = torch.ops.aten.threshold_backward(q_t, rates[:, t], 0)
            else:
                dz_t = q_t.mul_(_derivative(rates[:, t], act))
            x_t = x0 if t == 0 else states[:, t - 1]
            if need_gain:
                g_gain.addcmul_(dz_t, x_t)
            if need_bias:
                g_bias.add_(dz_t)
            gx_t = dz_t * gain if gain is not None else dz_t  # dLoss/dx[t] through r[t]
            if t == 0:
                break
            if t == T:
                mu_t = torch.mul(gx_t, a, out=mu[:, t - 1])
            else:
                mu_t = torch.lerp(mu_t, gx_t, a, out=mu[:, t - 1])
            if gs is not None:
                mu_t.add_(gs[:, t - 1], alpha=a)
        g = [None] * 10
        if need[0]:
            g[0] = torch.add(gx_t, mu[:, 0], alpha=(1 - a) / a)
        if need[1]:
            g[1] = mu
        mu2, r2 = mu.view(E, T * B, N), rates[:, :T].reshape(E, T * B, N)
        if need[2]:
            g[2] = torch.bmm(mu2.transpose(1, 2), r2)
        g[3] = None if g_gain is None else g_gain.sum_to_size(gain.shape)
        g[4] = None if g_bias is None else g_bias.sum_to_size(bias.shape)
        if lowrank and any(need[5:8]):
            P = left.shape[2]
            s = torch.bmm(r2, right).view(E, T, B, P)  # R^T r[t]
            if need[5]:
                g[5] = torch.bmm(mu2.transpose(1, 2), (s * coef[:, None]).view(E, T * B, P))
            if need[6] or need[7]:
                h = torch.bmm(mu2, left).view(E, T, B, P)  # a L^T lam
                if need[6]:
                    g[6] = torch.bmm(r2.transpose(1, 2), (h * coef[:, None]).view(E, T * B, P))
                if need[7]:
                    g[7] = (h * s).sum(1).sum_to_size(coef.shape)
        return tuple(g)


class _Readout(torch.autograd.Function):
    """outputs (E, TB, O) = rates (E, TB, N) @ W_out^T (E, N, O) + b_out (E, O), with every
    product in the layout MKL's batched matmul is fast at here: with O = 9 outputs the
    autograd formulas of ``baddbmm`` cost 2-4x more (BENCHMARKS.md, ensemble section)."""

    @staticmethod
    def forward(ctx, rates, W_out, b_out):
        out = torch.bmm(W_out, rates.transpose(1, 2)).transpose(1, 2)  # (E, TB, O) view
        out.add_(b_out[:, None])
        ctx.save_for_backward(rates, W_out)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        rates, W_out = ctx.saved_tensors
        gT = g.transpose(1, 2).contiguous()  # (E, O, TB)
        need = ctx.needs_input_grad
        return (torch.bmm(gT.transpose(1, 2), W_out) if need[0] else None,
                torch.bmm(gT, rates) if need[1] else None,
                gT.sum(2) if need[2] else None)


def readout(rates, W_out, b_out):
    """(E, T, B, O) outputs ``W_out r + b_out`` of rates (E, T, B, N), per member."""
    E, T, B, N = rates.shape
    return _Readout.apply(rates.reshape(E, T * B, N), W_out, b_out).view(E, T, B, -1)


def _phi(x, gain, bias, activation: str):
    """phi(gain x + bias) with autograd (gain / bias None: 1 / 0)."""
    if gain is not None:
        x = x * gain
    if bias is not None:
        x = x + bias
    return {"relu": torch.relu, "tanh": torch.tanh,
            "softplus": torch.nn.functional.softplus}[activation](x)


def rollout(x0, drives, W, gain, bias, left, right, coef, alpha: float, activation: str,
            fused: bool = True):
    """States x[1..T] and rates r[1..T] (E, T, B, N) from x0 under ``drives`` (see the module
    docstring): x[t+1] = (1 - alpha) x[t] + alpha (W r[t] + L diag(coef) R^T r[t] + drive[t]),
    r[t] = phi(gain x[t] + bias). fused: the hand-written backward (:class:`_EnsembleRollout`);
    False: the plain autograd loop."""
    if fused:
        return _EnsembleRollout.apply(x0, drives.contiguous(), W, gain, bias, left, right,
                                      coef, alpha, activation)
    x, states, WT = x0, [], W.transpose(1, 2)
    for t in range(drives.shape[1]):
        r = _phi(x, gain, bias, activation)
        pre = torch.baddbmm(drives[:, t], r, WT)
        if left is not None:
            pre = pre + torch.bmm(torch.bmm(r, right) * coef, left.transpose(1, 2))
        x = torch.lerp(x, pre, alpha)
        states.append(x)
    states = torch.stack(states, 1)
    rates = _phi(states, gain[:, None] if gain is not None else None,
                 bias[:, None] if bias is not None else None, activation)
    return states, rates
