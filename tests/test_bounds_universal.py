"""Tests of chapter 5's formulas in lawlib.bounds: the universal law, its sample size,
the net size, Massart's lemma.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import raises_naming
from hypothesis import given
from hypothesis import strategies as st

from lawlib import bounds


def test_universal_law_scale_hand_values():
    assert bounds.universal_law_scale(100, 50, 5000) == pytest.approx(1.0)
    assert bounds.universal_law_scale(100, 50, 100) == pytest.approx(math.sqrt(50))
    assert bounds.universal_law_scale(100, 50, 1250, sigma=0.5) == pytest.approx(
        0.5 * 2
    )


# A point where Theorem 3's bound is a round number by hand: with 60 W J / ε = e
# (ε = 1/2, W = e/120, J = 1) and δ = 4 e⁻² the denominator is p · 1 + 2 = 100 for
# p = 98, and with n d = 100 · 1024² the bound is (1/2) / 512 · 1024 = 1.
E = math.e
ROUND = dict(weight_diameter=E / 120, weight_lipschitz=1.0, delta=4 / E**2)


@given(
    st.integers(1, 10**6),
    st.integers(1, 10**4),
    st.integers(1, 10**7),
    st.floats(0.01, 0.99),
)
def test_bound_grows_like_sqrt_n_and_sample_size_inverts_it(n, d, p, eps):
    b = bounds.bubeck_sellke_bound(n, d, p, eps)
    assert bounds.bubeck_sellke_bound(4 * n, d, p, eps) == pytest.approx(2 * b)
    assert bounds.bubeck_sellke_bound(n, 4 * d, p, eps) == pytest.approx(2 * b)
    assert bounds.bubeck_sellke_bound(n, d, 2 * p, eps) < b
    target = 0.37
    m = bounds.bubeck_sellke_sample_size(d, p, eps, lipschitz=target)
    assert bounds.bubeck_sellke_bound(m, d, p, eps) >= target * (1 - 1e-9)
    if m > 1:
        assert bounds.bubeck_sellke_bound(m - 1, d, p, eps) < target


def test_sample_size_hand_value():
    # the inverse of the round point above: Lip 1 needs n d = 100 · 1024², Lip 2
    # four times as many samples, and at least one sample is always needed
    assert bounds.bubeck_sellke_sample_size(100, 98, 0.5, **ROUND) == 1024**2
    assert bounds.bubeck_sellke_sample_size(400, 98, 0.5, 2.0, **ROUND) == 1024**2
    assert bounds.bubeck_sellke_sample_size(10**9, 98, 0.5, 1e-6, **ROUND) == 1


def test_massart_bound_hand_values_and_simulation():
    assert bounds.massart_rademacher_bound(3.0, 1, 10) == 0.0
    assert bounds.massart_rademacher_bound(2.0, 8, 4) == pytest.approx(
        2.0 * math.sqrt(2 * math.log(8)) / 4
    )
    # the lemma holds for a random finite class (Monte Carlo over signs)
    rng = np.random.default_rng(0)
    n, size = 50, 20
    values = rng.normal(size=(size, n))
    signs = rng.choice([-1.0, 1.0], size=(20000, n))
    empirical = (signs @ values.T / n).max(axis=1).mean()
    bound = bounds.massart_rademacher_bound(
        float(np.linalg.norm(values, axis=1).max()), size, n
    )
    assert 0 < empirical <= bound


@given(
    st.one_of(
        st.floats(max_value=0.0),
        st.floats(min_value=1.0),
        st.just(float("nan")),
        st.text(max_size=2),
    )
)
def test_epsilon_outside_unit_interval_is_refused(bad):
    raises_naming("epsilon", bounds.bubeck_sellke_bound, 100, 10, 10, bad)
    raises_naming("epsilon", bounds.bubeck_sellke_sample_size, 10, 10, bad)
