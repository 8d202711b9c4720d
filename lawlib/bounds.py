"""The formulas of the book's theorems, as functions of their parameters.

Each function evaluates one displayed formula; the chapter that proves or
cites it is named in its docstring.
"""

from __future__ import annotations

import math
from typing import Sequence

from ._checks import check_int, check_positive

__all__ = [
    "bubeck_sellke_bound",
    "bubeck_sellke_sample_size",
    "cap_probability_bound",
    "deep_network_law_bound",
    "deep_network_log_lipschitz",
    "deep_rademacher_bound",
    "deep_rademacher_bound_for_model",
    "fit_rademacher_lower_bound",
    "forced_depth",
    "forced_norm_product",
    "frobenius_bounds_from_spectral",
    "massart_rademacher_bound",
    "noise_floor_pass_probability_bound",
    "universal_law_scale",
]


def noise_floor_pass_probability_bound(
    n: int, sigma: float, epsilon: float, kurtosis: float = 3.0
) -> float:
    """Chebyshev bound on the chance that a predictor chosen *independently of the
    noise* passes the partial-memorization test (1/n) Σ (f(x_i) − y_i)² ≤ σ² − ε.

    For symmetric noise with E z² = σ² and E z⁴ = κσ⁴ (κ = 3 for Gaussian
    noise, κ = 1 for random signs) the bound is

        P ≤ (σ²/ε + (κ − 1) σ⁴/ε²) / n.

    It is proved in the memorization-model chapter (proposition "a fixed predictor
    cannot beat the noise floor").
    """
    n = check_int("n", n, minimum=1)
    sigma = check_positive("sigma", sigma)
    epsilon = check_positive("epsilon", epsilon)
    kurtosis = check_positive("kurtosis", kurtosis)
    if kurtosis < 1:
        raise ValueError(f"kurtosis must be >= 1 (E z^4 >= (E z^2)^2), got {kurtosis}")
    return min(1.0, (sigma**2 / epsilon + (kurtosis - 1) * sigma**4 / epsilon**2) / n)


def cap_probability_bound(d: int, s: float) -> float:
    """Cap bound P(⟨x, y⟩ ≥ s) ≤ exp(−d s²/2) for x, y independent uniform on S^{d−1},
    0 ≤ s < 1 (Ball 1997, lemma 2.2)."""
    d = check_int("d", d, minimum=2)
    s = check_positive("s", s, allow_zero=True)
    if s >= 1:
        raise ValueError(f"s must be < 1, got {s}")
    return math.exp(-d * s * s / 2)


# --------------------------- the universal-law chapter: the universal law of robustness


def universal_law_scale(n: int, d: int, p: float, sigma: float = 1.0) -> float:
    """The informal shape σ √(nd / P) of the universal law, without its constants.

    "Lip(f) ≳ σ √(nd / P)" is how the lecture slides state the law
    informally. Theorem 3 of Bubeck–Sellke (2021) is stated with the gap ε
    (fit to mean squared error at most σ² − ε, so ε ≤ σ²) as its prefactor,
    Lip(f) ≳ ε √(nd / P), up to the constant and the logarithmic factor of
    :func:`bubeck_sellke_bound`; with ε of order σ² the two agree up to a
    factor σ. This is the curve trained networks and the projected RBF
    construction are plotted against.
    """
    n = check_int("n", n, minimum=1)
    d = check_int("d", d, minimum=1)
    p = check_positive("p", p)
    sigma = check_positive("sigma", sigma)
    return sigma * math.sqrt(n * d / p)


def _check_theorem3(
    epsilon: float,
    c: float,
    weight_diameter: float,
    weight_lipschitz: float,
    delta: float,
):
    epsilon = check_positive("epsilon", epsilon)
    if epsilon >= 1:
        raise ValueError(f"epsilon must be in (0, 1), got {epsilon}")
    c = check_positive("c", c)
    weight_diameter = check_positive("weight_diameter", weight_diameter)
    weight_lipschitz = check_positive("weight_lipschitz", weight_lipschitz)
    delta = check_positive("delta", delta)
    if delta >= 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if 60 * weight_diameter * weight_lipschitz <= epsilon:
        raise ValueError(
            "weight_diameter * weight_lipschitz must exceed epsilon / 60 (so that "
            "log(60 W J / epsilon) > 0)"
        )
    return epsilon, c, weight_diameter, weight_lipschitz, delta


def bubeck_sellke_bound(
    n: int,
    d: int,
    p: int,
    epsilon: float,
    *,
    c: float = 1.0,
    weight_diameter: float = 1.0,
    weight_lipschitz: float = 1.0,
    delta: float = 0.01,
) -> float:
    """The Lipschitz lower bound of Bubeck and Sellke's universal law
    (their Theorem 3, arXiv:2105.12806):

        Lip(f) ≥ ε / (2⁹ √c) · √( n d / (p log(60 W J / ε) + log(4/δ)) )

    for every f in the class that fits below the noise level by ε,
    (1/n) Σ (f(x_i) − y_i)² ≤ σ² − ε, with probability ≥ 1 − δ over the data.
    Assumptions: labels in [−1, 1]; the class is {f_w : w ∈ 𝒲}, 𝒲 ⊂ R^p of
    diameter ≤ W (``weight_diameter``) and ‖f_w − f_w'‖_∞ ≤ J ‖w − w'‖
    (``weight_lipschitz``); the covariates are a mixture of c-isoperimetric
    distributions (``c``; a single component here); ε, δ ∈ (0, 1).
    """
    n = check_int("n", n, minimum=1)
    d = check_int("d", d, minimum=1)
    p = check_int("p", p, minimum=1)
    epsilon, c, w, j, delta = _check_theorem3(
        epsilon, c, weight_diameter, weight_lipschitz, delta
    )
    return _theorem3_bound(n, d, p, math.log(60 * w * j / epsilon), epsilon, c, delta)


def _theorem3_bound(
    n: int, d: int, p: int, log_net: float, epsilon: float, c: float, delta: float
) -> float:
    """ε / (2⁹ √c) · √( n d / (p · log_net + log(4/δ)) ), with log_net = log(60 W J / ε)
    (checked inputs).
    """
    return (
        epsilon
        / (2**9 * math.sqrt(c))
        * math.sqrt(n * d / (p * log_net + math.log(4 / delta)))
    )


def bubeck_sellke_sample_size(
    d: int,
    p: int,
    epsilon: float,
    lipschitz: float = 1.0,
    *,
    c: float = 1.0,
    weight_diameter: float = 1.0,
    weight_lipschitz: float = 1.0,
    delta: float = 0.01,
) -> int:
    """The smallest n at which :func:`bubeck_sellke_bound` reaches ``lipschitz``:

    n = ⌈ (2⁹ √c · L / ε)² (p log(60 W J / ε) + log(4/δ)) / d ⌉.
    """
    d = check_int("d", d, minimum=1)
    p = check_int("p", p, minimum=1)
    lipschitz = check_positive("lipschitz", lipschitz)
    epsilon, c, w, j, delta = _check_theorem3(
        epsilon, c, weight_diameter, weight_lipschitz, delta
    )
    denominator = p * math.log(60 * w * j / epsilon) + math.log(4 / delta)
    return max(
        1,
        math.ceil(
            (2**9 * math.sqrt(c) * lipschitz / epsilon) ** 2
            * denominator
            / d
            * (1 - 1e-12)
        ),
    )


def deep_network_log_lipschitz(
    p: int, depth: int, weight_bound: float = 1.0, sharing: int = 1, radius: float = 1.0
) -> float:
    """log J for J = R (W Q p)^D: how fast a depth-D network moves with its parameters.

    Bubeck–Sellke (2021, section 3): for depth-D networks with 1-Lipschitz
    activations whose p parameters lie in [−W, W]^p (``weight_bound``), each
    parameter shared by at most Q weights (``sharing``), on inputs of norm at
    most R (``radius``), one may take J = R (W Q p)^D in the hypothesis
    ‖f_w − f_w'‖_∞ ≤ J ‖w − w'‖ of their Theorem 3. Returned as a logarithm,
    log J = log R + D log(W Q p), so that large depths do not overflow.
    """
    p = check_int("p", p, minimum=1)
    depth = check_int("depth", depth, minimum=1)
    weight_bound = check_positive("weight_bound", weight_bound)
    sharing = check_int("sharing", sharing, minimum=1)
    radius = check_positive("radius", radius)
    return math.log(radius) + depth * math.log(weight_bound * sharing * p)


def deep_network_law_bound(
    n: int,
    d: int,
    p: int,
    depth: int,
    epsilon: float,
    *,
    weight_bound: float = 1.0,
    sharing: int = 1,
    radius: float = 1.0,
    c: float = 1.0,
    delta: float = 0.01,
) -> float:
    """:func:`bubeck_sellke_bound` for depth-D networks with parameters in [−W, W]^p:

        Lip(f) ≥ ε / (2⁹ √c) · √( n d / (p log(60 · 2W√p · J / ε) + log(4/δ)) ),
        log J = log R + D log(W Q p)    (:func:`deep_network_log_lipschitz`).

    The parameter set [−W, W]^p has diameter 2W√p. The denominator grows like
    D p log(W Q p), so the bound is of order ε √(nd / (D p)) up to logarithms:
    depth and weight size cost only a logarithmic factor.
    """
    n = check_int("n", n, minimum=1)
    d = check_int("d", d, minimum=1)
    p = check_int("p", p, minimum=1)
    epsilon, c, _, _, delta = _check_theorem3(epsilon, c, 1.0, 1.0, delta)
    log_j = deep_network_log_lipschitz(p, depth, weight_bound, sharing, radius)
    log_net = math.log(60 * 2 * weight_bound * math.sqrt(p) / epsilon) + log_j
    if log_net <= 0:
        raise ValueError(
            "60 · 2W√p · J / epsilon must exceed 1 (so that the logarithm is positive)"
        )
    return _theorem3_bound(n, d, p, log_net, epsilon, c, delta)


def massart_rademacher_bound(max_norm: float, class_size: int, n: int) -> float:
    """Massart's finite-class lemma: E_ε max_{f ∈ F} (1/n) Σ_i ε_i f(x_i) ≤ R
    √(2 log|F|) / n,

    with ε_i independent uniform signs and R = max_f (Σ_i f(x_i)²)^{1/2}
    (``max_norm``). For |f| ≤ B, R ≤ B√n and the bound is B √(2 log|F| / n);
    for L-Lipschitz functions centred on c-isoperimetric data the tail bound gives
    Var f ≤ 4 c L² / d, so typically R ≲ 2 L √(n c / d) and the bound is
    ≲ 2 L √(2 c log|F| / (n d)).
    """
    max_norm = check_positive("max_norm", max_norm, allow_zero=True)
    class_size = check_int("class_size", class_size, minimum=1)
    n = check_int("n", n, minimum=1)
    return max_norm * math.sqrt(2 * math.log(class_size)) / n


# ---------------------------------- the weight-bounded chapter: weight-bounded networks
#
# Rademacher complexity R̂_S(F) = E_σ sup_{f∈F} (1/n) Σ σ_i f(x_i) (no absolute value),
# inputs ‖x_i‖ ≤ B.


_LOG2 = math.log(2.0)


def _check_fraction(fraction: float) -> float:
    fraction = check_positive("fraction", fraction)
    if fraction > 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return fraction


def _check_epsilon_unit(epsilon: float) -> float:
    epsilon = check_positive("epsilon", epsilon)
    if epsilon > 1:
        raise ValueError(
            f"epsilon must be in (0, 1] (labels ±1 have noise level 1), got {epsilon}"
        )
    return epsilon


def fit_rademacher_lower_bound(epsilon: float = 1.0, fraction: float = 1.0) -> float:
    """R̂_S(F) ≥ p ε / 2 when F fits a fraction p of all ±1 labellings of S below the
    noise level.

    Hypothesis: sup_{f∈F} (1/n) Σ σ_i f(x_i) ≥ 0 for every σ ∈ {±1}^n; it holds, for
    example, when 0 ∈ F, when F is closed under negation, or when F contains two
    constants c and −c (one of them has correlation |c| |(1/n) Σ σ_i| ≥ 0). "Fits σ
    below the noise level" means some f ∈ F has (1/n) Σ (f(x_i) − σ_i)² ≤ 1 − ε.
    Expanding the square, such an f has (1/n) Σ σ_i f(x_i) ≥ (ε + (1/n) Σ f(x_i)²)/2 ≥
    ε/2; for the other labellings the hypothesis gives a supremum ≥ 0. With ε = 1 and
    p = 1 (exact fits of every labelling) this gives only R̂ ≥ 1/2, but an exact fit has
    (1/n) Σ σ_i f_σ(x_i) = 1, so then R̂ ≥ 1 (both proved in the weight-bounded
    chapter).
    """
    return _check_fraction(fraction) * _check_epsilon_unit(epsilon) / 2


def _check_layer_norms(M, D) -> list[float]:
    if isinstance(M, (str, bytes, bool)):
        raise ValueError(
            f"M must be a number or a sequence of per-layer norms, got {M!r}"
        )
    if hasattr(M, "__iter__"):
        norms = [check_positive(f"M[{j}]", m, allow_zero=True) for j, m in enumerate(M)]
        if not norms:
            raise ValueError("M must list at least one per-layer norm")
        if D is not None and check_int("D", D, minimum=1) != len(norms):
            raise ValueError(
                f"D must equal len(M) = {len(norms)} when M lists per-layer norms, got "
                f"{D}"
            )
        return norms
    if D is None:
        raise ValueError("D must be given when M is a single per-layer bound")
    D = check_int("D", D, minimum=1)
    return [check_positive("M", M, allow_zero=True)] * D


def deep_rademacher_bound(
    n: int, B: float, M: float | Sequence[float], D: int | None = None
) -> float:
    """Golowich–Rakhlin–Shamir (Inf. Inference 2020), Theorem 1: R̂_S ≤ B
    (√(2 D log 2) + 1) Π_j M_j / √n.

    For bias-free depth-D networks x ↦ W_D σ(W_{D−1} σ(⋯ σ(W_1 x))) with a 1-Lipschitz,
    positively homogeneous activation applied elementwise (ReLU), per-layer Frobenius
    norms ‖W_j‖_F ≤ M_j, and inputs ‖x_i‖ ≤ B. ``M`` is one bound for every layer
    (then give ``D``) or the list (M_1, …, M_D). Cited, not proved, in the
    weight-bounded chapter. (Their theorem has (1/n)(Σ‖x_i‖²)^{1/2} in place of B/√n,
    which is smaller; see :func:`deep_rademacher_bound_for_model`.)
    """
    n = check_int("n", n, minimum=1)
    B = check_positive("B", B)
    norms = _check_layer_norms(M, D)
    return B * (math.sqrt(2 * len(norms) * _LOG2) + 1) * math.prod(norms) / math.sqrt(n)


def frobenius_bounds_from_spectral(M: float, sizes: Sequence[int]) -> list[float]:
    """Per-layer Frobenius bounds implied by spectral bounds: ‖W_j‖_F ≤ √(rank W_j)
    ‖W_j‖₂ ≤ M √min(s_{j−1}, s_j).

    ``sizes`` are the layer sizes (d, w_1, …, w_{D−1}, 1). Feeding the result
    to :func:`deep_rademacher_bound` bounds the spectrally constrained class;
    the factor √width per layer is the price of the change of norm.
    """
    M = check_positive("M", M)
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise ValueError(
            f"sizes must be the sequence of layer sizes (d, w_1, ..., 1), got {sizes!r}"
        )
    s = [check_int(f"sizes[{j}]", v, minimum=1) for j, v in enumerate(sizes)]
    if len(s) < 2:
        raise ValueError(
            f"sizes must list at least an input and an output size, got {s}"
        )
    return [M * math.sqrt(min(a, b)) for a, b in zip(s[:-1], s[1:])]


def forced_norm_product(
    n: int, B: float, D: int, epsilon: float = 1.0, fraction: float = 1.0
) -> float:
    """The smallest Π_j M_j compatible with fitting: p ε √n / (2 B (√(2 D log 2) + 1)).

    If depth-D networks with per-layer Frobenius norms M_j fit a fraction p
    of the ±1 labellings of n points of norm ≤ B below the noise level, then
    p ε / 2 ≤ R̂ ≤ B (√(2 D log 2) + 1) Π M_j / √n, so Π M_j is at least this.
    Since Lip(f) ≤ Π ‖W_j‖₂ ≤ Π ‖W_j‖_F, it is also the smallest Lipschitz
    certificate such a class can carry.
    """
    n = check_int("n", n, minimum=1)
    B = check_positive("B", B)
    D = check_int("D", D, minimum=1)
    return (
        fit_rademacher_lower_bound(epsilon, fraction)
        * math.sqrt(n)
        / (B * (math.sqrt(2 * D * _LOG2) + 1))
    )


def forced_depth(
    n: int,
    B: float,
    M: float,
    epsilon: float = 1.0,
    fraction: float = 1.0,
    max_depth: int = 10**12,
) -> float:
    """The smallest depth D with B (√(2 D log 2) + 1) M^D / √n ≥ p ε / 2: below it,
    per-layer Frobenius bound M cannot fit.

    Returns D as a float (an integer value), or ``math.inf`` if no D ≤
    ``max_depth`` works (for M < 1 the left side is bounded in D). The left
    side's logarithm, D log M + log(√(2 D log 2) + 1), is concave in D, so the
    search is a bisection (a few dozen evaluations, whatever the answer).
    For large n and M > 1, D ≈ log(p ε √n / (2B)) / log M ≈ log n / (2 log M).
    """
    n = check_int("n", n, minimum=1)
    B = check_positive("B", B)
    M = check_positive("M", M)
    target = fit_rademacher_lower_bound(epsilon, fraction)
    max_depth = check_int("max_depth", max_depth, minimum=1)
    log_target = math.log(target * math.sqrt(n) / B)
    log_m = math.log(M)

    def value(D: int) -> float:
        return D * log_m + math.log(math.sqrt(2 * D * _LOG2) + 1)

    top = max_depth
    if M < 1:  # unimodal: find the last D at which the value still increases
        lo, hi = 1, max_depth
        while lo < hi:
            mid = (lo + hi) // 2
            if value(mid + 1) > value(mid):
                lo = mid + 1
            else:
                hi = mid
        top = lo
    if value(top) < log_target:
        return math.inf
    lo, hi = 1, top  # value is increasing on [1, top]: the first D reaching the target
    while lo < hi:
        mid = (lo + hi) // 2
        if value(mid) >= log_target:
            hi = mid
        else:
            lo = mid + 1
    return float(lo)


def _linear_layers(model) -> list:
    from torch import nn

    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    mods = [
        m
        for m in (model.modules() if not isinstance(model, nn.Linear) else [model])
        if not isinstance(m, nn.Sequential)
    ]
    allowed = (nn.Linear, nn.ReLU, nn.Flatten, nn.Identity)
    for m in mods:
        if not isinstance(m, allowed):
            raise ValueError(
                "model must be a chain of nn.Linear and nn.ReLU layers, found "
                f"{type(m).__name__}"
            )
    layers = [m for m in mods if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError("model has no nn.Linear layer")
    if layers[-1].out_features != 1:
        raise ValueError(f"model must have one output, got {layers[-1].out_features}")
    return layers


def deep_rademacher_bound_for_model(model, x) -> float:
    """Golowich–Rakhlin–Shamir's bound (1/n)(Σ_i ‖x_i‖²)^{1/2} (√(2 D log 2) + 1) Π_j
    ‖W_j‖_F, from a network's own weights.

    ``model`` is a bias-free chain of ``nn.Linear`` and ``nn.ReLU`` (e.g. from
    :meth:`lawlib.chapters.weight_bounded.ConstrainedMLP.network`); the bound is that
    of the class with M_j = ‖W_j‖_F, evaluated on the sample ``x``. A layer with a bias
    raises ``ValueError``: the theorem is about bias-free networks.
    """
    from ._checks import check_points

    layers = _linear_layers(model)
    if any(layer.bias is not None for layer in layers):
        raise ValueError(
            "model must have no biases (Golowich-Rakhlin-Shamir's theorem is for "
            "bias-free networks)"
        )
    x = check_points("x", x, min_points=1)
    if x.shape[1] != layers[0].in_features:
        raise ValueError(
            f"x must have {layers[0].in_features} columns, got {x.shape[1]}"
        )
    fro = math.prod(float(layer.weight.detach().double().norm()) for layer in layers)
    D = len(layers)
    return (
        float(x.detach().double().norm())
        * (math.sqrt(2 * D * _LOG2) + 1)
        * fro
        / x.shape[0]
    )
