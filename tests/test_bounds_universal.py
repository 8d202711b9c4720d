"""Tests of chapter 5's formulas in lawlib.bounds: the universal law, its sample size, the net size, Massart's lemma."""

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


def test_bubeck_sellke_bound_hand_value():
    # ε = 0.5, c = 1, W = J = 1, δ = 0.01: denominator p log 120 + log 400
    n, d, p = 10**6, 1000, 10**4
    expected = 0.5 / 512 * math.sqrt(n * d / (p * math.log(120) + math.log(400)))
    assert bounds.bubeck_sellke_bound(n, d, p, 0.5) == pytest.approx(expected)
    # c enters as 1/√c, W and J only through the logarithm of 60 W J / ε
    assert bounds.bubeck_sellke_bound(n, d, p, 0.5, c=4.0) == pytest.approx(
        expected / 2
    )
    wj = bounds.bubeck_sellke_bound(
        n, d, p, 0.5, weight_diameter=10.0, weight_lipschitz=3.0
    )
    assert wj == pytest.approx(
        0.5 / 512 * math.sqrt(n * d / (p * math.log(3600) + math.log(400)))
    )
    assert bounds.net_log_size(p, 0.5, 10.0, 3.0) == pytest.approx(p * math.log(3600))


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
    d, p, eps = 100, 1000, 0.5
    denom = p * math.log(120) + math.log(400)
    assert bounds.bubeck_sellke_sample_size(d, p, eps) == math.ceil(
        (512 / 0.5) ** 2 * denom / d
    )


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


def test_bad_input_names_the_argument():
    raises_naming("n", bounds.bubeck_sellke_bound, 0, 10, 10, 0.5)
    raises_naming("d", bounds.bubeck_sellke_bound, 10, 0, 10, 0.5)
    raises_naming("p", bounds.bubeck_sellke_bound, 10, 10, 0, 0.5)
    raises_naming("epsilon", bounds.bubeck_sellke_bound, 10, 10, 10, 1.0)
    raises_naming("epsilon", bounds.bubeck_sellke_bound, 10, 10, 10, 0.0)
    raises_naming("c", bounds.bubeck_sellke_bound, 10, 10, 10, 0.5, c=0.0)
    raises_naming("delta", bounds.bubeck_sellke_bound, 10, 10, 10, 0.5, delta=1.0)
    for name, kwargs in [
        ("weight_diameter", dict(weight_diameter=-1.0)),
        ("weight_lipschitz", dict(weight_lipschitz=float("nan"))),
        ("weight_diameter", dict(weight_diameter=1e-4, weight_lipschitz=1.0)),
    ]:
        raises_naming(name, bounds.bubeck_sellke_bound, 10, 10, 10, 0.5, **kwargs)
    raises_naming(
        "lipschitz", bounds.bubeck_sellke_sample_size, 10, 10, 0.5, lipschitz=0.0
    )
    raises_naming("p", bounds.net_log_size, 0, 0.5, 1.0, 1.0)
    raises_naming("p", bounds.universal_law_scale, 10, 10, 0.0)
    raises_naming("sigma", bounds.universal_law_scale, 10, 10, 5.0, sigma=-1.0)
    raises_naming("class_size", bounds.massart_rademacher_bound, 1.0, 0, 5)
    raises_naming("max_norm", bounds.massart_rademacher_bound, -1.0, 3, 5)


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
