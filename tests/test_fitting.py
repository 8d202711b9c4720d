"""Tests of lawlib.fitting: least squares with standard errors, the bootstrap, power
laws.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import raises_naming
from hypothesis import given
from hypothesis import strategies as st

from lawlib import fitting


def test_exact_line_has_zero_error():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    fit = fitting.linear_fit(x, 3 * x - 2)
    assert fit.slope == pytest.approx(3.0) and fit.intercept == pytest.approx(-2.0)
    assert fit.slope_se == pytest.approx(0.0, abs=1e-12) and fit.r2 == pytest.approx(
        1.0
    )
    assert fit.slope_interval() == pytest.approx((3.0, 3.0), abs=1e-10)
    assert np.allclose(fit.predict([10.0]), [28.0])


def test_hand_computed_least_squares():
    # x = 0, 1, 2; y = 0, 2, 1: x̄ = 1, ȳ = 1, Sxx = 2, Sxy = 1 -> b = 1/2, a = 1/2
    x, y = [0.0, 1.0, 2.0], [0.0, 2.0, 1.0]
    fit = fitting.linear_fit(x, y)
    assert fit.slope == pytest.approx(0.5) and fit.intercept == pytest.approx(0.5)
    # residuals -1/2, 1, -1/2: SSE = 1.5, s² = 1.5 / 1, SST = 2, r² = 1 - 1.5/2
    s = math.sqrt(1.5)
    assert fit.residual_std == pytest.approx(s)
    assert fit.slope_se == pytest.approx(s / math.sqrt(2))
    assert fit.intercept_se == pytest.approx(s * math.sqrt(1 / 3 + 1 / 2))
    assert fit.r2 == pytest.approx(0.25)
    # t quantile with 1 degree of freedom at 97.5 %: 12.7062...
    lo, hi = fit.slope_interval(0.95)
    assert (hi - lo) / 2 == pytest.approx(12.7062047 * s / math.sqrt(2), rel=1e-6)


def test_matches_numpy_polyfit_and_covariance():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 5, 40)
    y = 1.5 * x + 0.3 + rng.normal(0, 0.4, 40)
    fit = fitting.linear_fit(torch.tensor(x), torch.tensor(y))
    coef, cov = np.polyfit(x, y, 1, cov="unscaled")
    s2 = ((y - np.polyval(coef, x)) ** 2).sum() / (40 - 2)
    assert fit.slope == pytest.approx(coef[0]) and fit.intercept == pytest.approx(
        coef[1]
    )
    assert fit.slope_se == pytest.approx(math.sqrt(s2 * cov[0, 0]))
    assert fit.intercept_se == pytest.approx(math.sqrt(s2 * cov[1, 1]))


def test_interval_coverage_on_simulated_lines():
    # a 90 % interval covers the true slope in about 90 % of 400 simulated data sets
    rng = np.random.default_rng(2)
    x = np.linspace(0, 1, 15)
    covered = 0
    for _ in range(400):
        lo, hi = fitting.linear_fit(x, 2 * x + rng.normal(0, 0.3, 15)).slope_interval(
            0.9
        )
        covered += lo <= 2 <= hi
    assert 0.85 <= covered / 400 <= 0.95


def test_bootstrap_interval_contains_estimate_and_is_reproducible():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 4, 60)
    y = 0.7 * x + rng.normal(0, 0.5, 60)
    b1 = fitting.bootstrap_fit(x, y, n_boot=500, seed=5)
    b2 = fitting.bootstrap_fit(x, y, n_boot=500, seed=5)
    assert b1.slope_ci == b2.slope_ci
    assert b1.slope_ci[0] < b1.slope < b1.slope_ci[1]
    assert b1.intercept_ci[0] < b1.intercept < b1.intercept_ci[1]
    assert b1.slope == pytest.approx(fitting.linear_fit(x, y).slope)
    # the bootstrap spread is close to the classical standard error for Gaussian
    # residuals
    assert np.std(b1.slopes) == pytest.approx(
        fitting.linear_fit(x, y).slope_se, rel=0.3
    )
    assert len(b1.slopes) == 500


def test_power_law_recovers_exponent_and_prefactor():
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    fit = fitting.power_law_fit(x, 3.0 * x**0.5, n_boot=100)
    assert fit.exponent == pytest.approx(0.5) and fit.prefactor == pytest.approx(3.0)
    assert fit.exponent_se == pytest.approx(0.0, abs=1e-12)
    assert np.allclose(fit.predict([9.0]), [9.0])
    assert fit.bootstrap is not None and fit.bootstrap.slope_ci == pytest.approx(
        (0.5, 0.5)
    )
    assert fitting.power_law_fit(x, 3.0 * x**0.5).bootstrap is None


@given(st.integers(0, 10_000), st.floats(-2, 2), st.floats(0.1, 5))
def test_power_law_is_the_log_log_line(seed, beta, c):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 50, 12)
    y = c * x**beta * np.exp(rng.normal(0, 0.1, 12))
    fit = fitting.power_law_fit(x, y)
    line = fitting.linear_fit(np.log(x), np.log(y))
    assert fit.exponent == pytest.approx(line.slope) and fit.prefactor == pytest.approx(
        math.exp(line.intercept)
    )
    assert fit.exponent_interval(0.5) == pytest.approx(line.slope_interval(0.5))


def test_bad_input_names_the_argument():
    raises_naming(
        "x", fitting.linear_fit, [1.0, 2.0], [1.0, 2.0]
    )  # fewer than 3 points
    raises_naming("y", fitting.linear_fit, [1.0, 2.0, 3.0], [1.0, float("nan"), 2.0])
    raises_naming("x", fitting.linear_fit, [[1.0, 2.0, 3.0]], [1.0, 2.0, 3.0])
    raises_naming("x", fitting.linear_fit, [1.0, 1.0, 1.0], [1.0, 2.0, 3.0])
    raises_naming("x and y", fitting.linear_fit, [1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])
    raises_naming("x", fitting.power_law_fit, [0.0, 1.0, 2.0], [1.0, 2.0, 3.0])
    raises_naming("y", fitting.power_law_fit, [1.0, 2.0, 3.0], [1.0, -2.0, 3.0])
    raises_naming(
        "n_boot", fitting.bootstrap_fit, [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], n_boot=3
    )
    raises_naming(
        "level", fitting.bootstrap_fit, [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], level=1.5
    )
    raises_naming(
        "level",
        fitting.linear_fit([1.0, 2.0, 3.0], [1.0, 2.0, 2.5]).slope_interval,
        0.0,
    )
    raises_naming("y", fitting.linear_fit, [1.0, 2.0, 3.0], "abc")


@given(
    st.lists(
        st.floats(allow_nan=True, allow_infinity=True), min_size=3, max_size=6
    ).filter(lambda v: not all(np.isfinite(v)))
)
def test_non_finite_x_is_refused(xs):
    raises_naming("x", fitting.linear_fit, xs, list(range(len(xs))))


def test_group_bootstrap_equals_refitting_the_concatenated_resample():
    # weights = multiplicities: the weighted fit must equal OLS on the concatenated
    # resample
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=12), rng.normal(size=12)
    groups = np.repeat([0, 1, 2, 3], 3)
    counts = np.array([[2.0, 0.0, 1.0, 1.0]])
    slope, intercept = fitting._weighted_ols(x, y, counts[:, groups])
    keep = np.concatenate(
        [
            np.flatnonzero(groups == g)
            for g, c in enumerate(counts[0])
            for _ in range(int(c))
        ]
    )
    ref = fitting.linear_fit(x[keep], y[keep])
    assert slope[0] == pytest.approx(ref.slope) and intercept[0] == pytest.approx(
        ref.intercept
    )


def test_group_bootstrap_keeps_groups_together():
    # each group lies exactly on its own line y = g·x: a resample's slope is a weighted
    # mean of the drawn groups' slopes only if whole groups are resampled; within-group
    # points never mix
    x = np.tile([0.0, 1.0, 2.0], 4)
    groups = np.repeat([0, 1, 2, 3], 3)
    y = groups * x
    b = fitting.bootstrap_fit(x, y, n_boot=400, seed=3, groups=groups)
    assert b.slope == pytest.approx(1.5)
    assert np.all(b.slopes >= -1e-12) and np.all(b.slopes <= 3 + 1e-12)
    assert np.allclose(
        b.intercepts, 0.0, atol=1e-9
    )  # every group passes through the origin
    # all groups share the same x, so a resample's slope is (Σ_g count_g · g) / 4: a
    # multiple of 1/4
    assert np.allclose(b.slopes * 4, np.round(b.slopes * 4), atol=1e-9)
    point = fitting.bootstrap_fit(
        x, y, n_boot=400, seed=3
    )  # resampling points instead breaks this
    assert not np.allclose(point.slopes * 4, np.round(point.slopes * 4), atol=1e-9)
    # same seed, same answer; without groups the answer differs
    assert np.array_equal(
        b.slopes, fitting.bootstrap_fit(x, y, n_boot=400, seed=3, groups=groups).slopes
    )
    assert (
        fitting.power_law_fit(x + 1, y + 1, n_boot=50, groups=groups).bootstrap
        is not None
    )


def test_group_bootstrap_rejects_bad_groups():
    raises_naming(
        "groups", fitting.bootstrap_fit, [1.0, 2.0, 3.0], [1.0, 2.0, 4.0], groups=[0, 1]
    )
    raises_naming(
        "groups",
        fitting.bootstrap_fit,
        [1.0, 2.0, 3.0],
        [1.0, 2.0, 4.0],
        groups=[0, 0, 0],
    )
