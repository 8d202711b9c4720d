"""Tests of lawlib.baum: Baum's interpolating network (chapter 3)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lawlib
from lawlib.baum import BaumNetwork, baum_network

FAST = settings(max_examples=25, deadline=None)


def max_error(net, x, y) -> float:
    with torch.no_grad():
        return float((net(x) - y).abs().max())


def instance(n: int, d: int, seed: int, signs: bool = False):
    x = lawlib.sample_sphere(n, d, seed=seed, dtype=torch.float64)
    g = lawlib.make_generator(seed + 1000)
    y = (
        lawlib.random_signs(n, g, dtype=torch.float64)
        if signs
        else torch.randn(n, generator=g, dtype=torch.float64)
    )
    return x, y


@FAST
@given(n=st.integers(2, 80), d=st.integers(2, 9), seed=st.integers(0, 10**6))
def test_interpolates_random_instances(n, d, seed):
    x, y = instance(n, d, seed)
    net = baum_network(x, y)
    # exact in exact arithmetic; in float64 the four units of a slab cancel
    # numbers of size ~1/eta_g, so rounding is ~1e-16 * sum_g 1/eta_g (below
    # 1e-8 unless some slab is thinner than ~1e-7, which happens for rare seeds)
    assert max_error(net, x, y) < max(1e-8, 1e-14 * float((1 / net.etas).sum()))


def test_interpolates_paper_size_with_float32_input():
    x, y = instance(1000, 50, 0, signs=True)
    net = baum_network(x.float(), y.float())
    out = net(x.float())
    assert out.dtype == torch.float64 and out.shape == (1000,)
    assert float((out.detach() - y).abs().max()) < 1e-8


@FAST
@given(n=st.integers(2, 80), d=st.integers(2, 9), seed=st.integers(0, 10**6))
def test_counts_are_exact(n, d, seed):
    x, y = instance(n, d, seed)
    net = baum_network(x, y)
    groups = math.ceil(n / d)
    assert net.n_groups == groups
    assert net.n_neurons == 4 * groups
    assert net.n_parameters == 4 * groups * (d + 1) + 4 * groups + 1
    assert lawlib.count_parameters(net) == net.n_parameters


def test_each_group_carries_its_labels_and_vanishes_elsewhere():
    n, d = 37, 5  # seven full groups and a last group of two points
    x, y = instance(n, d, 3)
    net = baum_network(x, y)
    values = net.group_values(x)  # (n, G)
    own = torch.nn.functional.one_hot(net.group_index, net.n_groups).bool()
    assert torch.allclose(values[own], y, atol=1e-10, rtol=0)
    assert float(values[~own].abs().max()) < 1e-10
    # the hyperplane of each group passes through its points, unit normals
    h = (x @ net.normals.T - net.offsets)[own]
    assert float(h.abs().max()) < 1e-12
    assert torch.allclose(
        net.normals.norm(dim=1), torch.ones(net.n_groups, dtype=torch.float64)
    )
    # the affine function's gradient lies in the hyperplane
    assert float((net.normals * net.affine_slopes).sum(dim=1).abs().max()) < 1e-9


def test_trapezoid_profile_along_the_normal():
    # d = 2, two points: one group, the line through them; along the normal the
    # network is a trapezoid of height y with ramps of slope 1/eta.
    x = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([2.0, 2.0], dtype=torch.float64)
    eps = 0.1
    net = baum_network(x, y, slab_width=eps)
    eta = eps / (2 * 2.0)
    assert float(net.etas[0]) == pytest.approx(eta)
    u = net.normals[0]
    mid = x.mean(0)
    s = torch.tensor(
        [
            -1.0,
            -(eps + 2 * eta) - 1e-9,
            -(eps + eta),
            -eps,
            0.0,
            eps - 2 * eta,
            eps - eta,
            eps + 1e-9,
            1.0,
        ],
        dtype=torch.float64,
    )
    with torch.no_grad():
        values = net(mid + s[:, None] * u)
    # A ≡ 2 on the line and along its normal (constant labels, v = 0)
    expected = torch.tensor(
        [0.0, 0.0, 1.0, 2.0, 2.0, 2.0, 1.0, 0.0, 0.0], dtype=torch.float64
    )
    assert torch.allclose(values, expected, atol=1e-7)
    assert float(net.ramp_slopes[0]) == pytest.approx(1 / eta)


def test_hand_computed_weights_d2():
    # points (0, 1) and (1, 0), labels 1 and 3: the line x1 + x2 = 1, A(x) = 2 +
    # (x1 - x2)
    x = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([1.0, 3.0], dtype=torch.float64)
    net = baum_network(x, y, slab_width=0.3)
    u = net.normals[0] * torch.sign(net.normals[0, 0])
    assert torch.allclose(u, torch.tensor([1.0, 1.0], dtype=torch.float64) / 2**0.5)
    assert torch.allclose(
        net.affine_slopes[0], torch.tensor([1.0, -1.0], dtype=torch.float64)
    )
    assert float(net.intercepts[0]) == pytest.approx(2.0)
    assert float(net.etas[0]) == pytest.approx(0.3 / 6)
    assert torch.equal(
        net[2].weight[0], torch.tensor([1.0, -1.0, -1.0, 1.0], dtype=torch.float64)
    )
    assert float(net[2].bias.detach()) == 0.0


def test_default_width_is_half_the_admissible_width_and_below_the_separation():
    x, y = instance(200, 10, 7, signs=True)
    net = baum_network(x, y)
    assert torch.allclose(net.slab_widths, net.max_slab_widths / 2)
    assert bool((net.max_slab_widths <= net.separations).all())
    assert net.slab_width == pytest.approx(float(net.slab_widths.min()))
    # the admissible width is tight: a slab slightly wider than E_g reaches another
    # point
    wide = baum_network(x, y, slab_width=4 * net.max_slab_widths)
    assert max_error(wide, x, y) > 1e-3
    # any width up to E_g still interpolates
    edge = baum_network(x, y, slab_width=0.99 * net.max_slab_widths)
    assert max_error(edge, x, y) < 1e-8


def test_slab_points_have_the_ramp_slope_and_bounds_are_ordered():
    x, y = instance(300, 20, 11, signs=True)
    net = baum_network(x, y)
    pts = net.slab_points()
    assert pts.shape == (net.n_groups, 20)
    grads = lawlib.gradient_norms(net, pts)
    assert torch.allclose(grads, net.ramp_slopes, rtol=1e-9)
    lower = float(grads.max())
    assert lower >= 2 / net.slab_width * 0.999  # 1/eta = 2 max|y| / eps with max|y| = 1
    assert lawlib.spectral_norm_product(net) >= lower
    # on the data the gradient is the affine slope v_m (inside the plateau)
    assert torch.allclose(
        lawlib.gradient_norms(net, x),
        net.affine_slopes.norm(dim=1)[net.group_index],
        rtol=1e-9,
    )


def test_smaller_slab_costs_proportionally_more_lipschitz():
    x, y = instance(60, 6, 2, signs=True)
    base = baum_network(x, y)
    half = baum_network(x, y, slab_width=base.slab_widths / 2)
    assert torch.allclose(1 / half.etas, 2 / base.etas)


def test_zero_labels_group_contributes_nothing():
    x, _ = instance(12, 4, 5)
    y = torch.zeros(12, dtype=torch.float64)
    y[:4] = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    net = baum_network(x, y)
    z = lawlib.sample_sphere(50, 4, seed=9, dtype=torch.float64)
    assert float(net.group_values(z)[:, 1:].abs().max()) == 0.0
    assert max_error(net, x, y) < 1e-10


def test_generator_choice_of_partial_hyperplane_is_reproducible():
    x, y = instance(23, 5, 4)
    a = baum_network(x, y, generator=lawlib.make_generator(1))
    b = baum_network(x, y, generator=lawlib.make_generator(1))
    assert torch.equal(a.normals, b.normals)
    assert isinstance(a, BaumNetwork)


@pytest.mark.parametrize("where", ["dup", "collinear"])
def test_degenerate_group_raises(where):
    x, y = instance(9, 3, 1)
    if where == "dup":
        x[1] = x[0]
    else:
        x[2] = 0.3 * x[0] + 0.7 * x[1]
    with pytest.raises(ValueError, match="x: group 0 is degenerate"):
        baum_network(x, y)


def test_degenerate_partial_group_raises():
    x, y = instance(8, 3, 1)  # last group: points 6 and 7
    x[7] = x[6]
    with pytest.raises(ValueError, match="x: group 2 is degenerate"):
        baum_network(x, y)


def test_point_on_another_groups_hyperplane_raises():
    x, y = instance(6, 3, 1)
    x[4] = 0.5 * x[0] + 0.25 * x[1] + 0.25 * x[2]  # on group 0's plane
    with pytest.raises(ValueError, match="hyperplane of group 0"):
        baum_network(x, y)


@FAST
@given(n=st.integers(2, 30), d=st.integers(2, 6), data=st.data())
def test_nan_anywhere_raises_naming_x(n, d, data):
    x, y = instance(n, d, 0)
    i, j = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, d - 1))
    x[i, j] = data.draw(st.sampled_from([math.nan, math.inf]))
    with pytest.raises(ValueError, match="^x "):
        baum_network(x, y)


@FAST
@given(
    n=st.integers(2, 30),
    d=st.integers(2, 6),
    extra=st.integers(-1, 3).filter(lambda e: e != 0),
)
def test_labels_of_wrong_length_raise_naming_y(n, d, extra):
    x, y = instance(n, d, 0)
    y = torch.zeros(n + extra, dtype=torch.float64)
    with pytest.raises(ValueError, match="^y "):
        baum_network(x, y)


@pytest.mark.parametrize(
    "shape, pattern",
    [
        ((1, 3), "x must have at least 2 rows"),
        ((5, 1), "x must have at least 2 columns"),
        ((5,), "x must have 2 dimension"),
    ],
)
def test_bad_shapes_raise_naming_x(shape, pattern):
    with pytest.raises(ValueError, match=pattern):
        baum_network(torch.ones(shape), torch.ones(shape[0]))


def test_nan_label_raises_naming_y():
    x, y = instance(6, 3, 0)
    y[2] = math.nan
    with pytest.raises(ValueError, match="^y contains NaN"):
        baum_network(x, y)


@pytest.mark.parametrize("width", [0.0, -1.0, math.nan, [0.1, 0.1, 0.1], [0.1, -0.1]])
def test_bad_slab_width_raises_naming_it(width):
    x, y = instance(4, 2, 0)
    if isinstance(width, list):
        width = torch.tensor(width)
    with pytest.raises(ValueError, match="slab_width"):
        baum_network(x, y, slab_width=width)


def test_bad_generator_raises():
    x, y = instance(5, 2, 0)
    with pytest.raises(ValueError, match="generator"):
        baum_network(x, y, generator=3)


def test_chunking_does_not_change_the_network(monkeypatch):
    x, y = instance(47, 4, 6)
    a = baum_network(x, y)
    monkeypatch.setattr(lawlib.baum, "_CHUNK", 1)
    b = baum_network(x, y)
    assert torch.allclose(a[0].weight, b[0].weight, rtol=1e-9) and torch.allclose(
        a[0].bias, b[0].bias, rtol=1e-9
    )
    assert torch.allclose(a.slab_widths, b.slab_widths, rtol=1e-9, atol=0)


def test_degenerate_group_is_named_across_chunks(monkeypatch):
    x, y = instance(20, 4, 2)
    x[13] = x[12]  # group 3
    monkeypatch.setattr(lawlib.baum, "_CHUNK", 2)
    with pytest.raises(ValueError, match="x: group 3 is degenerate"):
        baum_network(x, y)


def test_the_two_ramps_have_different_gradients():
    # lemma item 3: where only phi(h + eta A) is linear, grad = (u + eta v)/eta; where
    # only phi(h) is, -u/eta
    x = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([1.0, 3.0], dtype=torch.float64)
    net = baum_network(x, y, slab_width=0.3)
    u, v, eta, eps = net.normals[0], net.affine_slopes[0], float(net.etas[0]), 0.3
    p, a = x[1], 3.0  # the anchor, where A = 3
    steep = (
        p - (eps + eta * a / 2) * u
    )  # h = -eps - eta a/2: only phi(h + eta A) is linear
    gentle = p + (eps - eta * a / 2) * u  # h = eps - eta a/2: only phi(h) is linear
    z = torch.stack([steep, gentle]).requires_grad_(True)
    (grad,) = torch.autograd.grad(net(z).sum(), z)
    assert torch.allclose(grad[0], (u + eta * v) / eta, rtol=1e-9)
    assert torch.allclose(grad[1], -u / eta, rtol=1e-9)
    assert torch.allclose(net.slab_points()[0], steep)
    assert float(net.ramp_slopes[0]) == pytest.approx(
        math.sqrt(1 / eta**2 + 2.0)
    )  # ||v||^2 = 2
