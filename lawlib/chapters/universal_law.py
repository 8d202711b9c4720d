"""Isoperimetry: Lipschitz functions of high-dimensional random points concentrate.

A distribution μ on R^d is **c-isoperimetric** (Bubeck–Sellke 2021) when every
L-Lipschitz f: R^d → R satisfies, for all t ≥ 0,

    P_{x∼μ}[ |f(x) − E f| ≥ t ] ≤ 2 exp(−d t² / (2 c L²)).

Known constants (the universal-law chapter says where each comes from):

* N(0, I_d/d): c = 1, by the Gaussian concentration inequality
  P[|F(g) − E F| ≥ t] ≤ 2 exp(−t²/(2 Lip(F)²)) for g ∼ N(0, I_d), applied to
  F(g) = f(g/√d), whose constant is L/√d (Ledoux 2001).
* The uniform distribution on S^{d−1}, d ≥ 3: c = d/(d − 2), from the Ricci
  curvature d − 2 of S^{d−1} (Bakry–Émery and Herbst's argument, Ledoux 2001).

This module holds the bound, the empirical two-sided tail of a sample, the
smallest c a sample is consistent with, and test functions whose Lipschitz
constants are known *exactly* (all equal to 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from .._checks import (
    check_choice,
    check_generator,
    check_int,
    check_points,
    check_positive,
    check_tensor,
)
from ..device import float64_device

__all__ = [
    "LipschitzTestFunction",
    "isoperimetric_bound",
    "known_isoperimetric_constant",
    "empirical_tail",
    "smallest_isoperimetric_constant",
    "coordinate_function",
    "norm_function",
    "distance_function",
    "max_coordinate_function",
    "orthogonal_relu_network",
    "lipschitz_test_functions",
]


def _as_numpy(name: str, a: Any) -> np.ndarray:
    """A finite float64 NumPy array from a tensor (any device), array or list;
    ValueError naming ``name`` otherwise.
    """
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a number or an array of numbers, got {type(a).__name__}"
        ) from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _values(name: str, values: Any) -> np.ndarray:
    v = _as_numpy(name, values)
    if v.ndim != 1 or v.shape[0] < 2:
        raise ValueError(
            f"{name} must be a 1-dimensional sample of at least 2 values, got shape "
            f"{v.shape}"
        )
    return v


def isoperimetric_bound(
    t: Any, d: int, lipschitz: float = 1.0, c: float = 1.0
) -> float | np.ndarray:
    """The c-isoperimetric tail bound 2 exp(−d t² / (2 c L²)) at each t ≥ 0.

    ``t`` is a number (returns a float) or an array (returns an array of the same
    shape). The bound exceeds 1 for small t, where it says nothing; it is not
    clipped, so plots show the formula as stated.
    """
    d = check_int("d", d, minimum=1)
    lipschitz = check_positive("lipschitz", lipschitz)
    c = check_positive("c", c)
    tt = _as_numpy("t", t)
    if np.any(tt < 0):
        raise ValueError("t must be >= 0")
    out = 2.0 * np.exp(-d * tt**2 / (2.0 * c * lipschitz**2))
    return float(out) if out.ndim == 0 else out


def known_isoperimetric_constant(distribution: str, d: int) -> float:
    """The constant c for which the book *proves or cites* c-isoperimetry.

    ``"gaussian"`` (N(0, I_d/d)): 1, by Gaussian concentration.
    ``"sphere"`` (uniform on S^{d−1}, d ≥ 3): d/(d − 2), by the Bakry–Émery
    criterion (Ricci curvature d − 2) and Herbst's argument (Ledoux 2001).
    """
    dist = check_choice("distribution", distribution, ("gaussian", "sphere"))
    if dist == "gaussian":
        check_int("d", d, minimum=1)
        return 1.0
    d = check_int("d", d, minimum=3)
    return d / (d - 2)


def empirical_tail(
    values: Any, t: Any, mean: float | None = None
) -> float | np.ndarray:
    """The empirical two-sided tail P̂[|f − E f| ≥ t] = #{i: |v_i − m| ≥ t} / N at each
    t.

    ``values`` are N samples v_i = f(x_i); ``m`` is ``mean`` when the exact mean
    E f is known, else the sample mean (1/N) Σ v_i. ``t`` is a number or an array.
    """
    v = _values("values", values)
    m = float(v.mean()) if mean is None else float(_as_numpy("mean", mean))
    tt = _as_numpy("t", t)
    if np.any(tt < 0):
        raise ValueError("t must be >= 0")
    dev = np.sort(np.abs(v - m))
    count = dev.shape[0] - np.searchsorted(dev, tt, side="left")  # #{dev >= t}
    out = count / dev.shape[0]
    return float(out) if out.ndim == 0 else out


def smallest_isoperimetric_constant(
    values: Any,
    d: int,
    lipschitz: float = 1.0,
    mean: float | None = None,
    min_count: int = 1,
) -> float:
    """The smallest c with P̂[|f − m| ≥ t] ≤ 2 exp(−d t² / (2 c L²)) for every t with P̂
    ≥ min_count/N.

    The empirical tail p(t) is a step function: on (a_{(k+1)}, a_{(k)}] (the
    sorted deviations |v_i − m|, largest first) it equals p(a_{(k)}), and the
    condition c ≥ d t² / (2 L² ln(2/p(t))) is hardest at the right end. So

        c_min = max_k d a_{(k)}² / (2 L² ln(2 / p(a_{(k)}))),

    computed exactly over all k with p(a_{(k)}) ≥ ``min_count``/N, with no grid of t.
    ``min_count`` = 1 uses every t; a larger value ignores the extreme tail, where p̂
    rests on a handful of points and fluctuates by a factor of order one (the top
    deviation alone exceeds the exact bound of a c = 1 distribution with a probability
    of several per cent). A value below the known constant of the distribution means the
    sample is consistent with it.
    """
    v = _values("values", values)
    d = check_int("d", d, minimum=1)
    lipschitz = check_positive("lipschitz", lipschitz)
    min_count = check_int("min_count", min_count, minimum=1)
    m = float(v.mean()) if mean is None else float(_as_numpy("mean", mean))
    dev_all = np.sort(np.abs(v - m))
    dev = dev_all[dev_all > 0]
    if dev.size == 0:
        return 0.0
    total = v.shape[0]
    count = total - np.searchsorted(dev_all, dev, side="left")  # #{|v_i - m| >= a}
    keep = count >= min_count
    if not keep.any():
        return 0.0
    dev, p = dev[keep], count[keep] / total
    return float(np.max(d * dev**2 / (2.0 * lipschitz**2 * np.log(2.0 / p))))


@dataclass(frozen=True)
class LipschitzTestFunction:
    """A function f: R^d → R, batched ((m, d) → (m,)), with its *exact* Lipschitz
    constant.
    """

    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    lipschitz: float
    d: int

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = check_points("x", x, min_points=1)
        if x.shape[1] != self.d:
            raise ValueError(
                f"x must have {self.d} columns, got shape {tuple(x.shape)}"
            )
        return self.fn(x)


def coordinate_function(d: int, index: int = 0) -> LipschitzTestFunction:
    """f(x) = x_j (j = ``index``): Lip = 1 exactly, since |x_j − x'_j| ≤ ‖x − x'‖ with
    equality along e_j.
    """
    d = check_int("d", d, minimum=1)
    index = check_int("index", index, minimum=0)
    if index >= d:
        raise ValueError(f"index must be < d = {d}, got {index}")
    return LipschitzTestFunction(
        f"coordinate x_{index + 1}", lambda x: x[:, index], 1.0, d
    )


def norm_function(d: int) -> LipschitzTestFunction:
    """f(x) = ‖x‖: Lip = 1 exactly (triangle inequality; equality along any ray).
    Constant on the sphere.
    """
    d = check_int("d", d, minimum=1)
    return LipschitzTestFunction(
        "norm ‖x‖", lambda x: torch.linalg.vector_norm(x, dim=1), 1.0, d
    )


def distance_function(point: torch.Tensor) -> LipschitzTestFunction:
    """f(x) = ‖x − a‖ for a fixed point a: Lip = 1 exactly (triangle inequality;
    equality along rays from a).
    """
    a = check_tensor("point", point, ndim=1)
    if a.shape[0] < 1:
        raise ValueError("point must have at least 1 coordinate")
    a = a.detach().clone()
    return LipschitzTestFunction(
        "distance ‖x − a‖",
        lambda x: torch.linalg.vector_norm(x - a.to(x), dim=1),
        1.0,
        a.shape[0],
    )


def max_coordinate_function(d: int) -> LipschitzTestFunction:
    """f(x) = max_j x_j: Lip = 1 exactly.

    |max_j x_j − max_j x'_j| ≤ max_j |x_j − x'_j| ≤ ‖x − x'‖; equality for
    x' = x + s e_j when x_j is the strict maximum and s > 0.
    """
    d = check_int("d", d, minimum=1)
    return LipschitzTestFunction(
        "max coordinate", lambda x: x.max(dim=1).values, 1.0, d
    )


def orthogonal_relu_network(
    d: int, k: int, generator: torch.Generator | None = None, *, seed: int | None = None
) -> tuple[nn.Sequential, float]:
    """A random 2-layer ReLU network f(x) = Σ_j a_j ReLU(⟨w_j, x⟩ + b_j) whose Lipschitz
    constant is exactly ‖a‖₂.

    The k ≤ d rows w_j are orthonormal (QR of a Gaussian d × k matrix), b_j ∼ N(0, 1/d)
    and a ∼ N(0, I_k), all drawn from ``generator`` (or ``seed``). Returns ``(net,
    lipschitz)`` with ``lipschitz`` = ‖a‖₂, proved in the universal-law chapter:

    * Upper: |f(x) − f(x')| ≤ ‖a‖ ‖ReLU(Wx + b) − ReLU(Wx' + b)‖ ≤ ‖a‖ ‖W(x − x')‖
      ≤ ‖a‖ ‖x − x'‖ (Cauchy–Schwarz, ReLU 1-Lipschitz, ‖W‖_op = 1).
    * Attained: at x₀ = Wᵀ(1 − b) every pre-activation equals 1 (W Wᵀ = I), so
      near x₀, f(x) = ⟨a, Wx + b⟩ and the unit direction Wᵀa/‖a‖ has slope ‖a‖.

    The network is ``Linear(d, k) → ReLU → Linear(k, 1, bias=False) → Flatten(0)`` in
    float64 (so W Wᵀ = I to rounding and the constant is exact to ~1e-15); feed it
    float64 inputs.
    """
    d = check_int("d", d, minimum=1)
    k = check_int("k", k, minimum=1)
    if k > d:
        raise ValueError(f"k must be <= d = {d} (k orthonormal rows in R^d), got {k}")
    check_generator("generator", generator)
    if generator is None:
        generator = torch.Generator().manual_seed(
            0 if seed is None else check_int("seed", seed, minimum=0)
        )
    dev = float64_device(
        generator.device
    )  # on MPS (no float64): drawn there in float32, built on the CPU
    draw = torch.float64 if dev == generator.device else torch.float32

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(
            *shape, generator=generator, device=generator.device, dtype=draw
        ).to(dev, torch.float64)

    q, _ = torch.linalg.qr(randn(d, k))
    b = randn(k) / math.sqrt(d)
    a = randn(k)
    net = nn.Sequential(
        nn.Linear(d, k), nn.ReLU(), nn.Linear(k, 1, bias=False), nn.Flatten(0)
    ).to(dev, torch.float64)
    with torch.no_grad():
        net[0].weight.copy_(q.T)
        net[0].bias.copy_(b)
        net[2].weight.copy_(a[None, :])
    return net, float(a.norm())


def lipschitz_test_functions(
    d: int,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    network_width: int | None = None,
    device: torch.device | str | None = None,
) -> list[LipschitzTestFunction]:
    """The chapter's test functions on R^d, each with Lipschitz constant exactly 1.

    A coordinate x₁; the norm ‖x‖; the distance ‖x − a‖ to a fixed point a = e₁
    (on the unit sphere, and at distance 1 from the origin, where N(0, I_d/d)
    concentrates); the largest coordinate max_j x_j; and a random
    :func:`orthogonal_relu_network` of width ``network_width`` (default
    min(d, 16)) divided by its exact constant ‖a‖₂. Random parts are drawn
    from ``generator`` (or ``seed``); functions evaluate on the device of their input.
    """
    d = check_int("d", d, minimum=2)
    check_generator("generator", generator)
    if generator is None:
        generator = torch.Generator().manual_seed(
            0 if seed is None else check_int("seed", seed, minimum=0)
        )
    k = (
        min(d, 16)
        if network_width is None
        else check_int("network_width", network_width, minimum=1)
    )
    net, lip = orthogonal_relu_network(d, min(k, d), generator)
    if device is not None:
        net = net.to(
            float64_device(device)
        )  # it stays float64: on MPS it evaluates on the CPU
    e1 = torch.zeros(d)
    e1[0] = 1.0

    def network(x: torch.Tensor) -> torch.Tensor:
        p = next(net.parameters())
        return (net(x.to(device=p.device, dtype=p.dtype)) / lip).to(
            device=x.device, dtype=x.dtype
        )

    return [
        coordinate_function(d),
        norm_function(d),
        distance_function(e1),
        max_coordinate_function(d),
        LipschitzTestFunction(
            "random ReLU network / its Lipschitz constant", network, 1.0, d
        ),
    ]
