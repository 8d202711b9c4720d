"""Estimating Lipschitz constants: lower bounds from below, upper bounds from above.

Lip(f) = sup_{x ≠ x'} |f(x) − f(x')| / ‖x − x'‖ is never computed exactly for
a trained network; the book brackets it.

Lower bounds (any f):
  * :func:`max_gradient_norm` — max_i ‖∇f(z_i)‖ over a point set; with fresh
    random points it is the proxy of Bubeck–Li–Nagaraj.
  * :func:`gradient_ascent_lipschitz` — ascends ‖∇f‖ from many starts.
  * :func:`max_pairwise_slope` — max_{i<j} |v_i − v_j| / ‖x_i − x_j‖ for values
    v_i = f(x_i); with labels it is McShane's constant L.

Upper bound (feed-forward networks with 1-Lipschitz activations):
  * :func:`spectral_norm_product` — Π_ℓ ‖W_ℓ‖₂.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ._checks import (
    check_generator,
    check_int,
    check_labels,
    check_points,
    check_positive,
)
from .geometry import pair_tiles

__all__ = [
    "batch_values",
    "gradient_norms",
    "max_gradient_norm",
    "LipschitzEstimate",
    "gradient_ascent_lipschitz",
    "max_pairwise_slope",
    "spectral_norm_product",
]

Function = Callable[[torch.Tensor], torch.Tensor]


def batch_values(f: Function, x: torch.Tensor) -> torch.Tensor:
    """f(x) for a batch x of shape (m, d), as a tensor of shape (m,) (an (m, 1) output
    is flattened; any other shape raises ``ValueError``)."""
    out = f(x)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.shape != (x.shape[0],):
        raise ValueError(
            "f must map an (m, d) tensor to shape (m,) or (m, 1), got "
            f"{tuple(out.shape)}"
        )
    return out


def gradient_norms(
    f: Function, x: torch.Tensor, batch_size: int = 4096, *, p: float = 2.0
) -> torch.Tensor:
    """‖∇f(x_i)‖_p for every row x_i of ``x`` (shape (m,)), by automatic
    differentiation, p ∈ [1, ∞].

    ``f`` maps an (m, d) batch to (m,) values row by row (a network in eval mode), so
    ∇_x Σ_i f(x_i) has ∇f(x_i) as its i-th row. The Lipschitz constant of f for the ℓ_q
    norm on inputs is sup_x ‖∇f(x)‖_p with p the dual exponent (1/p + 1/q = 1): p = 2
    for ℓ2, p = 1 for ℓ∞ perturbations. Always ‖g‖_2 ≤ ‖g‖_1 ≤ √d ‖g‖_2.
    """
    x = check_points("x", x, min_points=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if not (isinstance(p, (int, float)) and p >= 1):  # NaN fails too
        raise ValueError(f"p must be a number in [1, inf], got {p!r}")
    norms = []
    for start in range(0, x.shape[0], batch_size):
        xb = x[start : start + batch_size].detach().clone().requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(batch_values(f, xb).sum(), xb)
        norms.append(torch.linalg.vector_norm(grad, ord=p, dim=1))
    return torch.cat(norms)


def max_gradient_norm(f: Function, x: torch.Tensor, batch_size: int = 4096) -> float:
    """max_i ‖∇f(x_i)‖ over the rows of ``x``: a lower bound on Lip(f) (for f
    differentiable at x_i).

    With x_i 1000 fresh points from the data distribution this is the
    "maximum random gradient" of Bubeck–Li–Nagaraj, section 5.
    """
    return float(gradient_norms(f, x, batch_size).max())


@dataclass(frozen=True)
class LipschitzEstimate:
    """A lower bound ``value`` on Lip(f), attained as ‖∇f(point)‖."""

    value: float
    point: torch.Tensor


def gradient_ascent_lipschitz(
    f: Function,
    starts: torch.Tensor,
    steps: int = 200,
    step_size: float = 0.05,
    generator: torch.Generator | None = None,
) -> LipschitzEstimate:
    """A lower bound on Lip(f): maximise ‖∇f(x)‖ from every row of ``starts``.

    Each start moves along the gradient of ‖∇f‖² when f is twice differentiable, plus a
    random proposal of size ``step_size``; a move is kept only when it increases ‖∇f‖.
    For piecewise-linear f (ReLU networks, McShane, RBFs) the Hessian vanishes almost
    everywhere and the random proposals do the climbing. The result is max over starts
    and steps of ‖∇f(x)‖ ≤ Lip(f). Starting near the data finds the steep places of a
    memorizer.
    """
    x = check_points("starts", starts, min_points=1).detach().clone()
    steps = check_int("steps", steps, minimum=0)
    step_size = check_positive("step_size", step_size)
    check_generator("generator", generator)
    if generator is None:
        generator = torch.Generator(device=x.device).manual_seed(0)

    def norms_and_ascent(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = z.detach().requires_grad_(True)
        with torch.enable_grad():
            (g,) = torch.autograd.grad(batch_values(f, z).sum(), z, create_graph=True)
            sq = (g * g).sum(dim=1)
            if sq.requires_grad:
                (h,) = torch.autograd.grad(sq.sum(), z, allow_unused=True)
            else:
                h = None
        if h is None:
            h = torch.zeros_like(z)
        h = h / h.norm(dim=1, keepdim=True).clamp_min(1e-12)
        return sq.detach().sqrt(), h.detach()

    best, ascent = norms_and_ascent(x)
    best_x = x.clone()
    current, cur_val = x, best
    for _ in range(steps):
        noise = torch.randn(x.shape, generator=generator, device=generator.device).to(
            x.device
        )
        noise = noise / noise.norm(dim=1, keepdim=True).clamp_min(1e-12)
        proposal = current + step_size * (ascent + noise)
        val, new_ascent = norms_and_ascent(proposal)
        accept = val > cur_val
        current = torch.where(accept[:, None], proposal, current)
        cur_val = torch.where(accept, val, cur_val)
        ascent = torch.where(accept[:, None], new_ascent, ascent)
        improved = cur_val > best
        best = torch.where(improved, cur_val, best)
        best_x = torch.where(improved[:, None], current, best_x)
    i = int(best.argmax())
    return LipschitzEstimate(float(best[i]), best_x[i].detach())


def max_pairwise_slope(
    x: torch.Tensor, values: torch.Tensor, chunk: int = 1024
) -> float:
    """max_{i<j} |v_i − v_j| / ‖x_i − x_j‖, over the exact-distance tiles of
    :func:`lawlib.geometry.pair_tiles` (``chunk`` rows each).

    With v_i = f(x_i) it is a lower bound on Lip(f). With v_i = y_i (the
    labels) it is the smallest Lipschitz constant of any interpolant: the
    constant L of the McShane extension. Duplicate points with
    different values make it infinite and raise ``ValueError``.
    """
    x = check_points("x", x)
    values = check_labels("values", values, x.shape[0]).detach().to(x.dtype)
    chunk = check_int("chunk", chunk, minimum=1)
    best = 0.0
    for i0, j0, dist in pair_tiles(
        x, metric="distance", rows=chunk, upper=True, fill=math.inf
    ):
        diff = values[i0 : i0 + dist.shape[0], None] - values[j0 : j0 + dist.shape[1]]
        if bool(((dist == 0) & (diff != 0)).any()):
            raise ValueError(
                "x contains duplicate points with different values: "
                "no Lipschitz interpolant exists"
            )
        slope = diff.abs_().div_(dist.clamp_min_(1e-300))  # 0/0 → 0: equal values
        best = max(best, float(slope.nan_to_num_(0.0).max()))
    return best


_ONE_LIPSCHITZ = (nn.ReLU, nn.Tanh, nn.Identity, nn.Flatten, nn.Softplus)


def spectral_norm_product(model: nn.Module) -> float:
    """Π_ℓ ‖W_ℓ‖₂ over the layers of a feed-forward ``model``: an upper bound on its
    Lipschitz constant.

    Valid because Lip(g ∘ h) ≤ Lip(g) · Lip(h), a linear layer has Lipschitz constant
    ‖W‖₂ (largest singular value, ``torch.linalg.matrix_norm(W, 2)``) and ReLU-type
    activations are 1-Lipschitz. A BatchNorm1d in eval mode is the diagonal map γ/√(var
    + ε), of norm max_j |γ_j| / √(var_j + ε). ``model`` must be a chain of such layers
    (``nn.Sequential`` or a module listing them in order in its children); anything else
    raises ``ValueError``.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    # _modules, not children(): children() lists a layer applied twice (weight sharing)
    # only once.
    layers = (
        [model]
        if isinstance(model, nn.Linear)
        else [m for m in model._modules.values() if m is not None]
    )
    if not layers:
        raise ValueError("model has no layers")
    bound = 1.0
    for layer in layers:
        if isinstance(layer, nn.Sequential):
            bound *= spectral_norm_product(layer)
        elif isinstance(layer, nn.Linear):
            bound *= float(torch.linalg.matrix_norm(layer.weight.detach(), ord=2))
        elif isinstance(layer, nn.BatchNorm1d):
            if layer.training:
                raise ValueError(
                    "model has a BatchNorm1d in training mode: call model.eval() first"
                )
            if layer.running_var is None:
                raise ValueError(
                    "model has a BatchNorm1d without running statistics "
                    "(track_running_stats=False)"
                )
            scale = 1.0 / torch.sqrt(layer.running_var + layer.eps)
            if layer.affine:
                scale = scale * layer.weight.detach()
            bound *= float(scale.abs().max())
        elif isinstance(layer, nn.LeakyReLU):
            bound *= max(1.0, abs(layer.negative_slope))
        elif isinstance(layer, nn.ELU):
            bound *= max(1.0, abs(layer.alpha))
        elif isinstance(layer, nn.Dropout):
            bound *= 1.0 / (1.0 - layer.p) if layer.training else 1.0
        elif isinstance(layer, _ONE_LIPSCHITZ):
            continue
        else:
            raise ValueError(
                "model contains a layer spectral_norm_product cannot bound: "
                f"{type(layer).__name__}"
            )
    return bound
