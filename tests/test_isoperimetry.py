"""Tests of lawlib.chapters.universal_law: the bound, empirical tails, the smallest
constant, exact Lipschitz constants."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import raises_naming
from hypothesis import given
from hypothesis import strategies as st

import lawlib
from lawlib.chapters import universal_law as iso

D64 = torch.float64


# ---------------------------------------------------------------- the bound and the
# known constants


def test_bound_hand_values():
    assert iso.isoperimetric_bound(0.0, 10) == 2.0
    assert iso.isoperimetric_bound(1.0, 2) == pytest.approx(2 * math.exp(-1.0))
    # d t² / (2 c L²) = 8 · 0.25 / (2 · 2 · 0.25) = 2
    assert iso.isoperimetric_bound(0.5, 8, lipschitz=0.5, c=2.0) == pytest.approx(
        2 * math.exp(-2.0)
    )
    t = np.array([0.0, 1.0, 2.0])
    out = iso.isoperimetric_bound(t, 1)
    assert isinstance(out, np.ndarray) and out.shape == (3,)
    assert np.allclose(out, 2 * np.exp(-(t**2) / 2))


def test_bound_scales_with_d_t_squared_over_c_l_squared():
    # the bound depends on t only through d t² / (c L²)
    a = iso.isoperimetric_bound(0.3, 50, lipschitz=2.0, c=1.5)
    assert a == pytest.approx(iso.isoperimetric_bound(0.3 / (2.0 * math.sqrt(1.5)), 50))
    assert a == pytest.approx(iso.isoperimetric_bound(0.3, 50, lipschitz=1.0, c=6.0))
    assert iso.isoperimetric_bound(0.6, 50, lipschitz=2.0) == pytest.approx(
        iso.isoperimetric_bound(0.3, 50, lipschitz=1.0)
    )


def test_known_constants():
    assert iso.known_isoperimetric_constant("gaussian", 7) == 1.0
    assert iso.known_isoperimetric_constant("sphere", 3) == 3.0
    assert iso.known_isoperimetric_constant("Sphere", 102) == pytest.approx(102 / 100)
    raises_naming("d", iso.known_isoperimetric_constant, "sphere", 2)
    raises_naming("distribution", iso.known_isoperimetric_constant, "cube", 5)


# ---------------------------------------------------------------- empirical tails and
# the smallest constant


def test_empirical_tail_hand_values():
    v = [0.0, 1.0, 2.0, 3.0, 4.0]  # mean 2, deviations 2, 1, 0, 1, 2
    assert iso.empirical_tail(v, 0.0) == 1.0
    assert iso.empirical_tail(v, 0.5) == pytest.approx(4 / 5)
    assert iso.empirical_tail(v, 1.0) == pytest.approx(4 / 5)  # >= t, so ties count
    assert iso.empirical_tail(v, 1.5) == pytest.approx(2 / 5)
    assert iso.empirical_tail(v, 2.0) == pytest.approx(2 / 5)
    assert iso.empirical_tail(v, 2.01) == 0.0
    # an exact mean instead of the sample mean
    assert np.allclose(
        iso.empirical_tail(v, [0.5, 3.5, 4.0], mean=0.0), [4 / 5, 1 / 5, 1 / 5]
    )
    assert np.allclose(iso.empirical_tail(torch.tensor(v), np.array([1.5])), [2 / 5])


def test_smallest_constant_hand_value():
    # deviations from the mean 0: 1, 1, 3, 3 (N = 4). p(1) = 1, p(3) = 1/2
    v = [-1.0, 1.0, -3.0, 3.0]
    d = 2
    expected = max(
        d * 1**2 / (2 * math.log(2 / 1.0)), d * 3**2 / (2 * math.log(2 / 0.5))
    )
    c = iso.smallest_isoperimetric_constant(v, d)
    assert c == pytest.approx(expected)
    # the sample satisfies the bound with c, and fails it with anything smaller at some
    # t
    grid = np.linspace(0, 3, 3001)
    assert np.all(
        iso.empirical_tail(v, grid) <= iso.isoperimetric_bound(grid, d, c=c) + 1e-12
    )
    assert np.any(
        iso.empirical_tail(v, grid) > iso.isoperimetric_bound(grid, d, c=0.999 * c)
    )
    # ignoring the top two points leaves only the deviation 1 (count 4)
    assert iso.smallest_isoperimetric_constant(v, d, min_count=3) == pytest.approx(
        d / (2 * math.log(2))
    )
    assert iso.smallest_isoperimetric_constant(v, d, min_count=5) == 0.0
    assert iso.smallest_isoperimetric_constant([2.0, 2.0, 2.0], d) == 0.0


@given(st.integers(0, 10_000), st.integers(2, 60), st.floats(0.2, 3.0))
def test_smallest_constant_is_tight_on_random_samples(seed, m, lip):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(m) * rng.uniform(0.1, 2)
    d = int(rng.integers(1, 100))
    c = iso.smallest_isoperimetric_constant(v, d, lipschitz=lip)
    dev = np.abs(v - v.mean())
    # the bound with c holds at every deviation (where the step function is hardest),
    # and c is attained
    p = iso.empirical_tail(v, dev)
    bound = (
        iso.isoperimetric_bound(dev, d, lipschitz=lip, c=c)
        if c > 0
        else np.zeros_like(dev)
    )
    assert np.all(p <= bound * (1 + 1e-9) + 1e-300)
    if c > 0:
        assert np.any(np.isclose(p, bound, rtol=1e-9))


def test_gaussian_coordinate_is_consistent_with_c_1():
    x = lawlib.sample_gaussian(20000, 30, seed=2, dtype=D64)
    c = iso.smallest_isoperimetric_constant(x[:, 0], 30, mean=0.0, min_count=30)
    assert 0.5 < c < 1.0


# ---------------------------------------------------------------- exact Lipschitz
# constants of the test functions


def _max_slope(f, a: torch.Tensor, b: torch.Tensor) -> float:
    with torch.no_grad():
        return float(((f(a) - f(b)).abs() / (a - b).norm(dim=1)).max())


@pytest.mark.parametrize("d", [2, 7, 40])
def test_test_functions_are_one_lipschitz_and_attain_it(d):
    g = torch.Generator().manual_seed(d)
    fns = iso.lipschitz_test_functions(d, g)
    assert [f.lipschitz for f in fns] == [1.0] * 5
    a = torch.randn(4000, d, generator=g, dtype=D64)
    b = a + 0.3 * torch.randn(4000, d, generator=g, dtype=D64)
    for f in fns:
        assert _max_slope(f, a, b) <= 1 + 1e-9, f.name
    e1 = torch.zeros(1, d, dtype=D64)
    e1[0, 0] = 1.0
    # coordinate, norm, distance to e1, max coordinate: slope exactly 1 along e1 from
    # suitable points
    start = torch.zeros(1, d, dtype=D64)
    start[0, 0] = 3.0
    for f in fns[:4]:
        assert _max_slope(f, start, start + 0.5 * e1) == pytest.approx(1.0), f.name


def test_orthogonal_relu_network_exact_constant():
    d, k = 12, 5
    net, lip = iso.orthogonal_relu_network(d, k, seed=3)
    w, b, a = net[0].weight.detach(), net[0].bias.detach(), net[2].weight.detach()[0]
    assert torch.allclose(w @ w.T, torch.eye(k, dtype=w.dtype), atol=1e-12)
    assert lip == pytest.approx(float(a.norm()))
    assert lawlib.spectral_norm_product(net) == pytest.approx(lip)
    # attained at x0 = W^T (1 - b) along W^T a / ||a||
    x0 = ((1 - b) @ w)[None]
    v = (a @ w / a.norm())[None]
    assert _max_slope(net, x0, x0 + 0.1 * v) == pytest.approx(lip, rel=1e-9)
    g = torch.Generator().manual_seed(0)
    p = torch.randn(3000, d, generator=g, dtype=D64)
    assert _max_slope(
        net, p, p + torch.randn(3000, d, generator=g, dtype=D64)
    ) <= lip * (1 + 1e-12)
    net2, lip2 = iso.orthogonal_relu_network(d, k, seed=3)
    assert lip2 == lip and torch.equal(net2[0].weight, net[0].weight)


# ---------------------------------------------------------------- bad input names the
# argument


def test_bad_input_names_the_argument():
    raises_naming("d", iso.isoperimetric_bound, 1.0, 0)
    raises_naming("lipschitz", iso.isoperimetric_bound, 1.0, 3, lipschitz=0.0)
    raises_naming("c", iso.isoperimetric_bound, 1.0, 3, c=-1.0)
    raises_naming("t", iso.isoperimetric_bound, -0.1, 3)
    raises_naming("t", iso.isoperimetric_bound, float("nan"), 3)
    raises_naming("values", iso.empirical_tail, [1.0], 0.1)
    raises_naming("values", iso.empirical_tail, [[1.0, 2.0]], 0.1)
    raises_naming("values", iso.empirical_tail, [1.0, float("nan")], 0.1)
    raises_naming("t", iso.empirical_tail, [1.0, 2.0], -1.0)
    raises_naming("values", iso.smallest_isoperimetric_constant, "abc", 3)
    raises_naming(
        "min_count", iso.smallest_isoperimetric_constant, [1.0, 2.0], 3, min_count=0
    )
    raises_naming("d", iso.lipschitz_test_functions, 1)
    raises_naming("k", iso.orthogonal_relu_network, 3, 4)
    raises_naming("generator", iso.orthogonal_relu_network, 3, 2, generator="no")
    raises_naming("index", iso.coordinate_function, 3, 3)
    raises_naming("point", iso.distance_function, torch.zeros(2, 2))
    f = iso.coordinate_function(3)
    raises_naming("x", f, torch.zeros(4, 2))


@given(st.one_of(st.just(float("inf")), st.floats(-10, -1e-3), st.text(max_size=3)))
def test_bad_lipschitz_or_c_is_refused(bad):
    raises_naming("lipschitz", iso.isoperimetric_bound, 0.5, 4, lipschitz=bad)
    raises_naming("c", iso.isoperimetric_bound, 0.5, 4, c=bad)
    raises_naming(
        "lipschitz",
        iso.smallest_isoperimetric_constant,
        [0.0, 1.0, 2.0],
        4,
        lipschitz=bad,
    )
