"""Robust training across widths: the frontier of trained memorizers (the chapter "Can
training reach the law?").

A 2-layer ReLU network f(x) = Σ_ℓ a_ℓ ReLU(⟨w_ℓ, x⟩ + b_ℓ) is trained on the square loss
plus a smoothness penalty,

    L(θ) = (1/n) Σ_i (f(x_i) − y_i)²  +  λ · (1/T) Σ_t ‖∇_x f(z_t)‖²,

with T points z_t drawn afresh at every step (``penalty="gaussian"``: z ~ N(0, I_d/d),
the data's law; ``penalty="data"``: z = x_i + s·N(0, I_d/d) near random data points).
The input gradient of such a network is

    ∇_x f(z) = Σ_ℓ a_ℓ 1[⟨w_ℓ, z⟩ + b_ℓ > 0] w_ℓ,

piecewise constant in z and piecewise linear in the parameters, so the penalty's
gradient is written out: with G_t = ∇_x f(z_t), R = (1/T) Σ_t ‖G_t‖² and
m_ℓt = 1[⟨w_ℓ, z_t⟩ + b_ℓ > 0],

    ∂R/∂a_ℓ = (2/T) Σ_t m_ℓt ⟨w_ℓ, G_t⟩,  ∂R/∂w_ℓ = (2/T) a_ℓ Σ_t m_ℓt G_t,  ∂R/∂b_ℓ = 0

(the activation pattern does not move under an infinitesimal change: automatic
differentiation of ``create_graph=True`` gradients gives the same, tested). The sweep
trains on the engine of :mod:`lawlib.batched` (:func:`lawlib.train_batched` with its
penalty option): every (width, λ, seed) network is a block of rows of one neuron-major
model, a run of networks of equal width is one batched product, Adam acts coordinate
by coordinate and each network stops, without a further step, as soon as it memorizes
in the sense of the universal-law chapter (:func:`lawlib.memorizes`).

The module also brackets Lipschitz constants on points the training never saw
(:func:`lipschitz_bracket`), gives a lower bound valid for every memorizer of a data set
(:func:`memorizer_floor`) and the neuron-per-point memorizer for Gaussian data
(:func:`neuron_per_point`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .._checks import (
    check_generator,
    check_int,
    check_labels,
    check_points,
    check_positive,
)
from ..batched import BatchedResult, train_batched
from ..data import make_generator, sample_gaussian
from ..lipschitz import gradient_ascent_lipschitz, gradient_norms, max_pairwise_slope
from ..models import two_layer_relu

__all__ = [
    "FrontierResult",
    "LipschitzBracket",
    "lipschitz_bracket",
    "memorizer_floor",
    "neuron_per_point",
    "penalty_points",
    "train_penalized",
]

_PENALTIES = ("gaussian", "data")


def penalty_points(
    n_points: int,
    x: torch.Tensor,
    penalty: str,
    noise: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """The T = ``n_points`` points at which one step evaluates the penalty.

    ``penalty="gaussian"``: z_t ~ N(0, I_d/d). ``penalty="data"``: z_t = x_{i_t} +
    ``noise``·g_t with i_t uniform among the data and g_t ~ N(0, I_d/d). Drawn from
    ``generator`` (the index first).
    """
    n_points = check_int("n_points", n_points, minimum=1)
    x = check_points("x", x, min_points=1)
    if penalty not in _PENALTIES:
        raise ValueError(f"penalty must be one of {_PENALTIES}, got {penalty!r}")
    noise = check_positive("noise", noise, allow_zero=True)
    n, d = x.shape
    if penalty == "gaussian":
        return sample_gaussian(n_points, d, generator, dtype=x.dtype).to(x.device)
    idx = torch.randint(
        0, n, (n_points,), generator=generator, device=generator.device
    ).to(x.device)
    g = sample_gaussian(n_points, d, generator, dtype=x.dtype).to(x.device)
    return x[idx] + noise * g


@dataclass
class FrontierResult(BatchedResult):
    """A trained penalized sweep: :class:`lawlib.BatchedResult` (without batch norm)
    with each network's penalty weight ``lams`` and the ``penalty`` points' law.

    ``n_parameters`` counts k(d + 2) per network (weights, biases, output weights), as
    :func:`lawlib.count_parameters` counts ``two_layer_relu(d, k)``.
    """

    lams: np.ndarray = field(default_factory=lambda: np.zeros(0))
    penalty: str = "gaussian"

    def __len__(self) -> int:
        return len(self.widths)

    def weights(self, j: int) -> dict[str, torch.Tensor]:
        """Network ``j``'s weights: ``weight`` (k, d), ``bias`` (k,), ``a`` (k,)."""
        j = check_int("j", j, minimum=0)
        if j >= len(self):
            raise ValueError(
                f"j must be < {len(self)} (the number of networks), got {j}"
            )
        return dict(self._weights[j])

    def path_norm(self) -> np.ndarray:
        """Σ_ℓ |a_ℓ| ‖w_ℓ‖ per network: an upper bound on Lip(f_j) (each neuron is
        |a_ℓ|‖w_ℓ‖-Lipschitz)."""
        return np.array(
            [
                float((w["a"].abs() * w["weight"].norm(dim=1)).sum())
                for w in map(self.weights, range(len(self)))
            ]
        )

    def spectral_product(self) -> np.ndarray:
        """‖W‖₂ · ‖a‖₂ per network: the product of the layers' spectral norms, an upper
        bound on Lip(f_j)."""
        return np.array(
            [
                float(torch.linalg.matrix_norm(w["weight"], 2) * w["a"].norm())
                for w in map(self.weights, range(len(self)))
            ]
        )


def train_penalized(
    x: torch.Tensor,
    y: torch.Tensor,
    widths: Sequence[int],
    lams: Sequence[float],
    seeds: Sequence[int],
    *,
    penalty: str = "gaussian",
    n_penalty: int = 64,
    noise: float = 0.1,
    point_seed: int = 0,
    steps: int = 2000,
    lr: float = 1e-2,
    eps: float = 0.02,
    progress: bool | None = None,
) -> FrontierResult:
    """Train 2-layer ReLU networks with a gradient penalty, all at once, until each
    memorizes.

    Network j has ``widths[j]`` neurons, starts as ``two_layer_relu(d, widths[j],
    generator=make_generator(seeds[j]))`` and minimizes, with full-batch Adam (β = (0.9,
    0.999), ε = 10⁻⁸, rate ``lr``, as ``torch.optim.Adam``),

        L_j = (1/n) Σ_i (f_j(x_i) − y_i)² + ``lams[j]`` · (1/T) Σ_t ‖∇f_j(z_t)‖²,

    with T = ``n_penalty`` points drawn afresh at every step by :func:`penalty_points`
    (``penalty``, ``noise``) from one generator seeded with ``point_seed`` (all networks
    see the same points). It stops, without a further step, as soon as sign f_j(x_i) =
    y_i for all i and the *data* loss is at most ``eps`` (the universal-law chapter's
    criterion), or after ``steps`` steps. ``x`` is (n, d), ``y`` (n,) ±1. The result
    equals training each network alone with ``torch.optim.Adam`` and automatic
    differentiation of the penalty (tested).
    """
    x = check_points("x", x, min_points=2)
    y = check_labels("y", y, x.shape[0]).to(x)
    widths = [check_int(f"widths[{i}]", k, minimum=1) for i, k in enumerate(widths)]
    lams = [
        check_positive(f"lams[{i}]", v, allow_zero=True) for i, v in enumerate(lams)
    ]
    seeds = [check_int(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(seeds)]
    if not widths:
        raise ValueError("widths must list at least one network")
    if len(lams) != len(widths):
        raise ValueError(
            f"lams must have one entry per network ({len(widths)}), got {len(lams)}"
        )
    if len(seeds) != len(widths):
        raise ValueError(
            f"seeds must have one entry per network ({len(widths)}), got {len(seeds)}"
        )
    if penalty not in _PENALTIES:
        raise ValueError(f"penalty must be one of {_PENALTIES}, got {penalty!r}")
    n_penalty = check_int("n_penalty", n_penalty, minimum=1)
    noise = check_positive("noise", noise, allow_zero=True)
    point_seed = check_int("point_seed", point_seed, minimum=0)
    steps = check_int("steps", steps, minimum=0)
    lr = check_positive("lr", lr)
    eps = check_positive("eps", eps)
    gen = make_generator(point_seed, x.device)
    res = train_batched(
        x,
        y,
        widths,
        seeds,
        batch_norm=False,
        steps=steps,
        lr=lr,
        eps=eps,
        progress=progress is not False,
        lams=lams,
        penalty_points=lambda: penalty_points(n_penalty, x, penalty, noise, gen),
    )
    return FrontierResult(
        **vars(res), lams=np.array(lams, dtype=float), penalty=penalty
    )


@dataclass(frozen=True)
class LipschitzBracket:
    """lower ≤ Lip(f) ≤ upper, with the pieces of the lower bound.

    ``fresh``: max ‖∇f‖ at fresh points; ``data``: at the data points; ``ascent``:
    gradient ascent on ‖∇f‖ from the data and from midpoints of opposite-label pairs;
    ``pairwise``: the largest slope |f(x_i) − f(x_j)|/‖x_i − x_j‖ between data points.
    ``upper`` is given by the caller (path norm or spectral product), ``inf`` when
    unknown.
    """

    lower: float
    upper: float
    fresh: float
    data: float
    ascent: float
    pairwise: float


def _midpoints(
    x: torch.Tensor, y: torch.Tensor, count: int, generator: torch.Generator
) -> torch.Tensor:
    """Midpoints of ``count`` random pairs of data points with opposite labels."""
    pos, neg = torch.nonzero(y > 0).flatten(), torch.nonzero(y < 0).flatten()
    if len(pos) == 0 or len(neg) == 0:
        return x[:0]
    i = pos[
        torch.randint(
            0, len(pos), (count,), generator=generator, device=generator.device
        ).to(pos.device)
    ]
    j = neg[
        torch.randint(
            0, len(neg), (count,), generator=generator, device=generator.device
        ).to(neg.device)
    ]
    return (x[i] + x[j]) / 2


def lipschitz_bracket(
    f: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    z: torch.Tensor,
    *,
    upper: float = math.inf,
    ascent_starts: int = 16,
    ascent_steps: int = 20,
    step_size: float = 0.02,
    generator: torch.Generator | None = None,
) -> LipschitzBracket:
    """Bracket Lip(f) on points the training never saw (the chapter "Can training reach
    the law?").

    The lower bound is the largest of: max_t ‖∇f(z_t)‖ at the fresh points ``z``; max_i
    ‖∇f(x_i)‖; :func:`lawlib.gradient_ascent_lipschitz` from ``ascent_starts`` data
    points and as many midpoints of opposite-label pairs; and
    :func:`lawlib.max_pairwise_slope` of the values f(x_i). Each is ≤ Lip(f). ``upper``
    (e.g. :meth:`FrontierResult.path_norm`) is passed through after checking that it is
    not below the lower bound (beyond rounding), else ``ValueError``.
    """
    x = check_points("x", x)
    y = check_labels("y", y, x.shape[0]).to(x)
    z = check_points("z", z, min_points=1)
    if z.shape[1] != x.shape[1]:
        raise ValueError(
            f"z must have {x.shape[1]} columns (the dimension d), got {z.shape[1]}"
        )
    upper = float(upper)
    if not upper > 0:
        raise ValueError(f"upper must be > 0, got {upper}")
    ascent_starts = check_int("ascent_starts", ascent_starts, minimum=1)
    ascent_steps = check_int("ascent_steps", ascent_steps, minimum=0)
    step_size = check_positive("step_size", step_size)
    check_generator("generator", generator)
    if generator is None:
        generator = make_generator(0, x.device)
    fresh = float(gradient_norms(f, z).max())
    at_data = gradient_norms(f, x)
    idx = at_data.argsort(descending=True)[:ascent_starts]  # the steepest data points
    starts = torch.cat([x[idx], _midpoints(x, y, ascent_starts, generator)])
    ascent = gradient_ascent_lipschitz(
        f, starts, steps=ascent_steps, step_size=step_size, generator=generator
    ).value
    with torch.no_grad():
        values = f(x).reshape(-1)
    pairwise = max_pairwise_slope(x, values)
    lower = max(fresh, float(at_data.max()), ascent, pairwise)
    if upper < lower * (1 - 1e-6):
        raise ValueError(
            f"upper = {upper:.6g} is below the lower bound {lower:.6g}: not an upper "
            "bound"
        )
    return LipschitzBracket(lower, upper, fresh, float(at_data.max()), ascent, pairwise)


def memorizer_floor(x: torch.Tensor, y: torch.Tensor, eps: float) -> float:
    """A lower bound on Lip(f) for EVERY f that memorizes (x, y) in the universal-law
    chapter's sense, any width.

    Memorizing means sign f(x_i) = y_i (±1) and (1/n) Σ (f(x_i) − y_i)² ≤ ``eps``. For θ
    ∈ (0, 1), at most b = ⌊n·eps/θ²⌋ points have |f(x_i) − y_i| > θ. Match
    opposite-label pairs greedily by increasing distance (disjoint pairs, distances D_1
    ≤ D_2 ≤ …); b bad points spoil at most b pairs, so one of the first b + 1 is good
    and Lip(f) ≥ 2(1 − θ)/D_{b+1}. Returns the best such bound over θ (0 if no θ leaves
    enough pairs). Proved in the chapter.
    """
    x = check_points("x", x)
    y = check_labels("y", y, x.shape[0]).to(x)
    eps = check_positive("eps", eps)
    if not bool(((y == 1) | (y == -1)).all()):
        raise ValueError("y must be ±1 labels")
    pos, neg = torch.nonzero(y > 0).flatten(), torch.nonzero(y < 0).flatten()
    if len(pos) == 0 or len(neg) == 0:
        return 0.0
    dist = torch.cdist(x[pos], x[neg]).flatten()
    order = dist.argsort().tolist()
    used_p, used_n, matched = set(), set(), []
    n_neg = len(neg)
    for e in order:
        i, j = divmod(e, n_neg)
        if i not in used_p and j not in used_n:
            used_p.add(i)
            used_n.add(j)
            matched.append(float(dist[e]))
            if len(matched) == min(len(pos), n_neg):
                break
    n, best = x.shape[0], 0.0
    for theta in np.linspace(0.05, 0.95, 91):
        b = math.floor(n * eps / theta**2)
        if b < len(matched):
            best = max(best, 2 * (1 - theta) / matched[b])
    return best


def neuron_per_point(
    x: torch.Tensor, y: torch.Tensor, tau: float = 0.9
) -> nn.Sequential:
    """One neuron per data point for data off the sphere: a ``two_layer_relu(d, n)``
    network.

    Neuron i has weight u_i = x_i/‖x_i‖, bias −τ‖x_i‖ and output weight y_i/((1 −
    τ)‖x_i‖), so at x_i it contributes y_i exactly; it is silent at x_j whenever ⟨u_i,
    x_j⟩ < τ‖x_i‖ (checked: else ``ValueError`` naming ``x``), so f(x_i) = y_i. It is
    the sphere construction of the RBF chapter (:class:`lawlib.NeuronPerPoint`) rescaled
    to each point's norm; Lip ≥ max_i |y_i|/((1 − τ)‖x_i‖).
    """
    x = check_points("x", x, min_dim=2)
    y = check_labels("y", y, x.shape[0]).to(x)
    tau = check_positive("tau", tau)
    if tau >= 1:
        raise ValueError(f"tau must be in (0, 1), got {tau}")
    norms = x.norm(dim=1)
    u = x / norms[:, None]
    thresholds = tau * norms
    pre = x @ u.T - thresholds[None, :]  # (point j, neuron i)
    pre.fill_diagonal_(-1.0)
    if bool((pre > 0).any()):
        raise ValueError(
            "x has a point inside another point's cap (⟨u_i, x_j⟩ ≥ τ‖x_i‖): raise tau"
        )
    net = two_layer_relu(x.shape[1], x.shape[0]).to(device=x.device, dtype=x.dtype)
    with torch.no_grad():
        net[0].weight.copy_(u)
        net[0].bias.copy_(-thresholds)
        net[2].weight.copy_((y / ((1 - tau) * norms))[None])
    return net.eval()
