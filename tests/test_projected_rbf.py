"""Tests of lawlib.ProjectedRBF: interpolation, the exact Lipschitz constant
(max|y|/r)·√(d/d'), counts, bad input."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import raises_naming
from hypothesis import assume, given
from hypothesis import strategies as st

import lawlib
from lawlib.constructions import ProjectedRBF, RBFMemorizer

D64 = torch.float64


def gaussian_data(n: int, d: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    x = lawlib.sample_gaussian(n, d, seed=seed, dtype=D64)
    y = lawlib.random_signs(n, seed=seed + 1).to(D64)
    return x, y


def test_hand_values():
    # d = 4, d' = 1: Π x = 2 x_1. Points with first coordinates 0, 1, 3 -> projected 0,
    # 2, 6; δ' = 2, r = 1.
    x = torch.tensor(
        [[0.0, 5.0, 0.0, 0.0], [1.0, 0.0, 7.0, 0.0], [3.0, 0.0, 0.0, -2.0]], dtype=D64
    )
    y = torch.tensor([1.0, -0.5, 0.25], dtype=D64)
    f = ProjectedRBF(x, y, 1)
    assert (
        f.scale == pytest.approx(2.0)
        and f.min_distance == pytest.approx(2.0)
        and f.radius == pytest.approx(1.0)
    )
    assert (
        f.lipschitz == pytest.approx(1.0 / 1.0 * 2.0)
        and f.lipschitz_constant == f.lipschitz
    )
    assert f.n_parameters == 3 * (1 + 1) + 1 and f.n_neurons == 3
    # f(z) = Σ y_i max(0, 1 − |2 z_1 − c_i|): at z_1 = 0.25 -> bump 1 at distance 0.5 ->
    # 0.5
    z = torch.tensor(
        [[0.25, 9.0, 9.0, 9.0], [1.0, 0.0, 0.0, 0.0], [2.0, 1.0, 1.0, 1.0]], dtype=D64
    )
    assert torch.allclose(f(z), torch.tensor([0.5, -0.5, 0.0], dtype=D64))
    assert torch.allclose(f(x), y)


@pytest.mark.parametrize("d_proj", [1, 3, 10, 30])
def test_interpolates_and_exact_lipschitz_on_gaussian_data(d_proj):
    n, d = 60, 30
    x, y = gaussian_data(n, d, seed=d_proj)
    f = ProjectedRBF(x, y, d_proj)
    with torch.no_grad():
        assert float((f(x) - y).abs().max()) < 1e-10
    inner = RBFMemorizer(math.sqrt(d / d_proj) * x[:, :d_proj], y)
    assert f.radius == pytest.approx(inner.radius)
    assert f.lipschitz == pytest.approx(inner.lipschitz * math.sqrt(d / d_proj))
    # the attaining pair realises the constant exactly
    a, b = f.attaining_pair()
    with torch.no_grad():
        slope = float((f(a) - f(b)).abs() / (a - b).norm())
    assert slope == pytest.approx(f.lipschitz, rel=1e-9)
    # and no pair of points is steeper: random pairs near the two closest projected
    # centres
    pair = lawlib.min_pairwise_distance(f.rbf.centres)
    g = torch.Generator().manual_seed(1)
    m = 4000
    base = torch.zeros(m, d, dtype=D64)
    za, zb = base.clone(), base.clone()
    za[:, :d_proj] = f.rbf.centres[pair.i] / f.scale
    zb[:, :d_proj] = f.rbf.centres[pair.j] / f.scale
    za = za + 1.2 * f.radius / f.scale * torch.randn(
        m, d, generator=g, dtype=D64
    ) / math.sqrt(d)
    zb = zb + 1.2 * f.radius / f.scale * torch.randn(
        m, d, generator=g, dtype=D64
    ) / math.sqrt(d)
    with torch.no_grad():
        worst = float(((f(za) - f(zb)).abs() / (za - zb).norm(dim=1)).max())
    assert worst <= f.lipschitz * (1 + 1e-9)
    assert f.n_parameters == n * (d_proj + 1) + 1


def test_full_dimension_is_the_rbf_memorizer():
    x, y = gaussian_data(40, 12, seed=3)
    f, g = ProjectedRBF(x, y, 12), RBFMemorizer(x, y)
    z = lawlib.sample_gaussian(100, 12, seed=9, dtype=D64)
    assert f.scale == 1.0 and f.lipschitz == pytest.approx(g.lipschitz)
    assert torch.allclose(f(z), g(z))


def test_lipschitz_is_order_sqrt_nd_over_p_when_d_prime_is_large():
    # d' = d: Lip = 2 max|y| / δ, and δ is within (0.8, √2 + 0.3) for 200 points in d =
    # 400
    n, d = 200, 400
    x, y = gaussian_data(n, d, seed=4)
    for d_proj in (100, 400):
        f = ProjectedRBF(x, y, d_proj)
        law = lawlib.universal_law_scale(n, d, f.n_parameters)
        assert 1.0 < f.lipschitz / law < 2.6


def test_bad_input_names_the_argument():
    x, y = gaussian_data(10, 5)
    raises_naming("d_proj", ProjectedRBF, x, y, 0)
    raises_naming("d_proj", ProjectedRBF, x, y, 6)
    raises_naming("d_proj", ProjectedRBF, x, y, 2.5)
    raises_naming("x", ProjectedRBF, x[:1], y[:1], 1)
    raises_naming("x", ProjectedRBF, torch.zeros(5), y, 1)
    raises_naming("y", ProjectedRBF, x, y[:-1], 2)
    raises_naming("radius", ProjectedRBF, x, y, 2, radius=-1.0)
    raises_naming("radius", ProjectedRBF, x, y, 2, radius=100.0)
    # two points that agree on the kept coordinates collide after the projection
    x2 = x.clone()
    x2[1, :2] = x2[0, :2]
    raises_naming("x", ProjectedRBF, x2, y, 2)
    f = ProjectedRBF(x, y, 2)
    raises_naming("z", f, torch.zeros(3, 4, dtype=D64))
    x3 = x.clone()
    x3[0, 0] = float("nan")
    raises_naming("x", ProjectedRBF, x3, y, 2)


@given(st.integers(2, 8), st.integers(1, 6), st.integers(0, 1000), st.floats(0.1, 3.0))
def test_constant_formula_on_random_instances(n, d, seed, label_scale):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=D64)
    y = label_scale * (2 * torch.rand(n, generator=g, dtype=D64) - 1)
    d_proj = 1 + seed % d
    projected = math.sqrt(d / d_proj) * x[:, :d_proj]
    assume(float(torch.pdist(projected).min()) > 1e-3)
    f = ProjectedRBF(x, y, d_proj)
    assert f.lipschitz == pytest.approx(
        float(y.abs().max()) / f.radius * math.sqrt(d / d_proj)
    )
    a, b = f.attaining_pair()
    with torch.no_grad():
        assert float((f(a) - f(b)).abs() / (a - b).norm()) == pytest.approx(
            f.lipschitz, rel=1e-9
        )
        assert float((f(x) - y).abs().max()) < 1e-9
