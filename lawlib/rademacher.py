"""Empirical Rademacher complexity: exact for small classes, estimated by optimisation
for networks.

For a sample S = (x_1, …, x_n) and a class F of real functions, the empirical
Rademacher complexity is

    R̂_S(F) = E_σ sup_{f ∈ F} (1/n) Σ_i σ_i f(x_i),

σ_1, …, σ_n i.i.d. uniform signs: how well the class correlates with pure
noise on S (the normalisation of Golowich–Rakhlin–Shamir, without absolute
values).

* :func:`finite_class_rademacher` — a finite class given by its values on S:
  exact (all 2ⁿ sign vectors) for small n, Monte Carlo otherwise.
* :func:`linear_class_rademacher` — {x ↦ ⟨w, x⟩ : ‖w‖ ≤ W}, where the supremum
  is explicit: R̂ = (W/n) E‖Σ σ_i x_i‖.
* :func:`estimate_rademacher` — the norm-constrained deep ReLU classes of
  :mod:`lawlib.constrained`, by maximising (1/n) Σ σ_i f(x_i) over the class
  with projected Adam for each of several sign draws. Optimisation finds a
  member of the class, not the supremum, so this is a **lower estimate**
  (up to the Monte Carlo error of averaging over finitely many draws).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Sequence

import torch

from ._checks import (
    check_generator,
    check_int,
    check_points,
    check_positive,
    check_tensor,
)
from .constrained import (
    ConstrainedMLP,
    check_norm,
    layer_sizes,
    one_cpu_thread,
)
from .train import Adam

__all__ = [
    "RademacherEstimate",
    "estimate_rademacher",
    "finite_class_rademacher",
    "linear_class_rademacher",
]

#: Largest n for which the expectation over all 2ⁿ sign vectors is computed exactly.
_EXACT_MAX_N = 16


@dataclass(frozen=True)
class RademacherEstimate:
    """An estimate ``value`` of R̂_S(F) with its Monte Carlo ``std_error`` (0 when
    exact).

    ``values[k]`` is sup (or, for :func:`estimate_rademacher`, the best value
    found) of (1/n) Σ σ_i f(x_i) for the sign vector ``signs[k]``; ``exact``
    says whether the expectation was computed over all 2ⁿ sign vectors.
    """

    value: float
    std_error: float
    values: torch.Tensor
    signs: torch.Tensor
    exact: bool


def _signs(
    n: int, n_draws: int | None, generator: torch.Generator | None, device, dtype
) -> tuple[torch.Tensor, bool]:
    if n_draws is None:
        if n > _EXACT_MAX_N:
            raise ValueError(
                f"n_draws must be given when n > {_EXACT_MAX_N} (exact enumeration "
                "needs 2^n sign vectors)"
            )
        signs = torch.tensor(
            list(itertools.product((-1.0, 1.0), repeat=n)), device=device, dtype=dtype
        )
        return signs, True
    n_draws = check_int("n_draws", n_draws, minimum=1)
    check_generator("generator", generator)
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    s = torch.randint(0, 2, (n_draws, n), generator=generator, device=generator.device)
    return (2 * s - 1).to(device=device, dtype=dtype), False


def _summary(
    values: torch.Tensor, signs: torch.Tensor, exact: bool
) -> RademacherEstimate:
    k = values.shape[0]
    se = 0.0 if exact or k < 2 else float(values.std() / math.sqrt(k))
    return RademacherEstimate(float(values.mean()), se, values, signs, exact)


def finite_class_rademacher(
    values: torch.Tensor,
    n_draws: int | None = None,
    generator: torch.Generator | None = None,
) -> RademacherEstimate:
    """R̂_S(F) = E_σ max_k (1/n) Σ_i σ_i v_{k,i} for a finite class whose values on S
    are the rows of ``values`` (K, n).

    With ``n_draws=None`` the expectation runs over all 2ⁿ sign vectors
    (exact; n ≤ 16); otherwise it is the mean over ``n_draws`` random sign
    vectors. the weight-bounded chapter uses it to check that a class realising every
    labelling has R̂ = 1.
    """
    v = check_tensor("values", values, ndim=2, min_rows=1)
    n = v.shape[1]
    if n < 1:
        raise ValueError(
            "values must have at least 1 column (one per sample point), got shape "
            f"{tuple(v.shape)}"
        )
    signs, exact = _signs(n, n_draws, generator, v.device, v.dtype)
    per = (
        torch.cat([(chunk @ v.T).max(dim=1).values for chunk in signs.split(4096)]) / n
    )
    return _summary(per, signs, exact)


def linear_class_rademacher(
    x: torch.Tensor,
    radius: float = 1.0,
    n_draws: int | None = None,
    generator: torch.Generator | None = None,
) -> RademacherEstimate:
    """R̂_S of the linear class {x ↦ ⟨w, x⟩ : ‖w‖ ≤ W}: (W/n) E_σ ‖Σ_i σ_i x_i‖.

    The supremum is explicit (Cauchy–Schwarz, attained at w = W u/‖u‖ with
    u = Σ σ_i x_i). Exact over all sign vectors when ``n_draws`` is None
    (n ≤ 16), else Monte Carlo. By Jensen it is at most (W/n) (Σ ‖x_i‖²)^{1/2}.
    """
    x = check_points("x", x, min_points=1)
    radius = check_positive("radius", radius)
    signs, exact = _signs(x.shape[0], n_draws, generator, x.device, x.dtype)
    per = (
        torch.cat([(chunk @ x).norm(dim=1) for chunk in signs.split(4096)])
        * radius
        / x.shape[0]
    )
    return _summary(per, signs, exact)


def estimate_rademacher(
    x: torch.Tensor,
    depth: int,
    width: int | Sequence[int],
    max_norm: float,
    *,
    norm: str = "frobenius",
    n_draws: int = 16,
    steps: int = 300,
    lr: float = 0.02,
    restarts: int = 1,
    generator: torch.Generator | None = None,
) -> RademacherEstimate:
    """A lower estimate of R̂_S(F_{D,M}) for bias-free depth-D ReLU networks with ‖W_j‖
    ≤ M per layer.

    For each of ``n_draws`` sign vectors σ (from ``generator``), projected Adam
    maximises (1/n) Σ σ_i f(x_i) over the class (``restarts`` initialisations
    per draw, all trained as one :class:`lawlib.ConstrainedMLP`); the best value
    reached by any iterate is kept, and 0 (the zero network belongs to the
    class) if nothing better was found. Every iterate is a member of the class,
    so each per-draw value is at most the supremum and the mean is a lower
    estimate of R̂_S: optimisation error makes it too small, the finite number
    of draws adds a Monte Carlo error of about ``std_error``.

    By positive homogeneity of ReLU, scaling every layer by M scales f by M^D,
    so R̂_S(F_{D,M}) = M^D R̂_S(F_{D,1}) exactly: the optimisation runs in the
    class with M = 1 and its values are multiplied by M^D.
    """
    x = check_points("x", x, min_points=1)
    sizes = layer_sizes(x.shape[1], width, depth)
    max_norm = check_positive("max_norm", max_norm)
    norm = check_norm(norm)
    steps = check_int("steps", steps, minimum=0)
    lr = check_positive("lr", lr)
    restarts = check_int("restarts", restarts, minimum=1)
    check_generator("generator", generator)
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    n = x.shape[0]
    signs, _ = _signs(n, n_draws, generator, x.device, x.dtype)
    k = signs.shape[0]
    model = ConstrainedMLP(
        x.shape[1],
        sizes[1:-1],
        len(sizes) - 1,
        1.0,
        norm,
        n_networks=k * restarts,
        generator=generator,
        device=x.device,
        dtype=x.dtype,
    )
    s = signs.repeat_interleave(restarts, dim=0)
    best = torch.zeros(k * restarts, device=x.device, dtype=x.dtype)
    opt = Adam(model.parameters(), lr, per_matrix=True)
    with one_cpu_thread(x.device):
        for t in range(steps + 1):
            opt.zero_grad()
            corr = (model(x) * s).mean(dim=1)
            best = torch.maximum(best, corr.detach())
            if t == steps:
                break
            (-corr.sum()).backward()
            opt.step()
            model.project_()
    per = best.view(k, restarts).max(dim=1).values * max_norm ** len(model.weights)
    return _summary(per, signs, False)
