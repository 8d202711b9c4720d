"""The formulas of the book's theorems, as functions of their parameters.

Each function evaluates one displayed formula; the chapter that proves or
cites it is named in its docstring.
"""

from __future__ import annotations

import math

from ._checks import check_int, check_positive


def noise_floor_pass_probability_bound(n: int, sigma: float, epsilon: float, kurtosis: float = 3.0) -> float:
    """Chebyshev bound on the chance that a predictor chosen *independently of the noise* passes
    the partial-memorization test (1/n) Σ (f(x_i) − y_i)² ≤ σ² − ε (chapter 1).

    For symmetric noise with E z² = σ² and E z⁴ = κσ⁴ (κ = 3 for Gaussian
    noise, κ = 1 for random signs) the bound is

        P ≤ (σ²/ε + (κ − 1) σ⁴/ε²) / n.

    It is proved in chapter 1 (proposition "a fixed predictor cannot beat the
    noise floor").
    """
    n = check_int("n", n, minimum=1)
    sigma = check_positive("sigma", sigma)
    epsilon = check_positive("epsilon", epsilon)
    kurtosis = check_positive("kurtosis", kurtosis)
    if kurtosis < 1:
        raise ValueError(f"kurtosis must be >= 1 (E z^4 >= (E z^2)^2), got {kurtosis}")
    return min(1.0, (sigma**2 / epsilon + (kurtosis - 1) * sigma**4 / epsilon**2) / n)


def cap_probability_bound(d: int, s: float) -> float:
    """Cap bound P(⟨x, y⟩ ≥ s) ≤ exp(−d s²/2) for x, y independent uniform on S^{d−1}, 0 ≤ s < 1
    (Ball 1997, lemma 2.2; chapters 1 and 2)."""
    d = check_int("d", d, minimum=2)
    s = check_positive("s", s, allow_zero=True)
    if s >= 1:
        raise ValueError(f"s must be < 1, got {s}")
    return math.exp(-d * s * s / 2)
