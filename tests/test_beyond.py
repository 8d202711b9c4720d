"""Tests of lawlib.chapters.beyond (chapter 8): the n^{1/d} mechanism, architectures,
other norms."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from helpers import raises_naming
from hypothesis import given
from hypothesis import strategies as st

import lawlib
from lawlib.chapters import beyond


def _phi(t: float) -> float:
    return 0.5 * (1 + math.erf(t / math.sqrt(2)))


# ---------------------------------------------------------------------------
# points of the cube


def test_sample_cube_is_seeded_and_in_the_cube():
    a = beyond.sample_cube(500, 3, seed=4)
    b = beyond.sample_cube(500, 3, generator=lawlib.make_generator(4))
    assert a.shape == (500, 3) and torch.equal(a, b)
    assert float(a.min()) >= 0 and float(a.max()) < 1
    assert not torch.equal(a, beyond.sample_cube(500, 3, seed=5))


def test_cube_grid_exact_points():
    g = beyond.cube_grid(3, 2)
    want = torch.tensor(
        [[i / 2, j / 2] for i in range(3) for j in range(3)], dtype=torch.float64
    )
    assert torch.equal(g, want)
    assert beyond.cube_grid(5, 1).flatten().tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert beyond.cube_grid(4, 3).shape == (64, 3)


@given(st.integers(2, 7), st.integers(1, 3), st.integers(0, 10**6))
def test_grid_interpolation_constant_is_exactly_2_m_minus_1(m, d, seed):
    x = beyond.cube_grid(m, d)
    y = lawlib.random_signs(m**d, seed=seed, dtype=torch.float64)
    y[0], y[-1] = 1.0, -1.0
    assert lawlib.max_pairwise_slope(x, y) == pytest.approx(2 * (m - 1), rel=1e-12)
    assert 2 / beyond.opposite_label_distance(x, y) == pytest.approx(
        2 * (m - 1), rel=1e-12
    )
    assert lawlib.min_pairwise_distance(x).value == pytest.approx(1 / (m - 1), rel=1e-9)


def test_pigeonhole_hand_values():
    assert beyond.pigeonhole_distance(2, 1) == 1.0  # m = 1
    assert beyond.pigeonhole_distance(10, 1) == pytest.approx(
        1 / 9
    )  # equally spaced points attain it
    assert beyond.pigeonhole_distance(5, 2) == pytest.approx(
        math.sqrt(2) / 2
    )  # m = 2 (4 < 5)
    assert beyond.pigeonhole_distance(4, 2) == pytest.approx(
        math.sqrt(2)
    )  # m = 1 (4 is not < 4)
    assert beyond.pigeonhole_distance(28, 3) == pytest.approx(
        math.sqrt(3) / 3
    )  # 27 < 28
    spaced = torch.linspace(0, 1, 10, dtype=torch.float64)[:, None]
    assert lawlib.min_pairwise_distance(spaced).value == pytest.approx(
        beyond.pigeonhole_distance(10, 1)
    )


@given(st.integers(2, 10**6), st.integers(1, 8))
def test_cells_per_side_is_the_largest_m_with_m_to_the_d_below_n(n, d):
    m = beyond._cells_per_side(n, d)
    assert m >= 1 and m**d < n <= (m + 1) ** d


@given(st.integers(2, 300), st.integers(1, 4), st.integers(0, 10**6))
def test_pigeonhole_bounds_the_closest_pair(n, d, seed):
    x = beyond.sample_cube(n, d, seed=seed, dtype=torch.float64)
    assert (
        lawlib.min_pairwise_distance(x).value
        <= beyond.pigeonhole_distance(n, d) + 1e-12
    )


# ---------------------------------------------------------------------------
# the cell bound


def test_cell_label_variance_hand_example():
    x = torch.tensor([[0.1], [0.2], [0.7], [1.0]])
    y = torch.tensor([1.0, -1.0, 1.0, 1.0])
    assert beyond.cell_label_variance(x, y, 1) == pytest.approx(
        4 - 2**2 / 4
    )  # one cell: n Var = 3
    assert beyond.cell_label_variance(x, y, 2) == pytest.approx(
        2.0
    )  # cells {0.1, 0.2} and {0.7, 1.0}
    assert beyond.cell_label_variance(x, y, 10) == pytest.approx(
        0.0
    )  # every point alone


def test_expected_cell_variance_of_random_signs_is_n_minus_nonempty_cells():
    # exact average over all 2^n sign patterns
    x = torch.tensor(
        [[0.05, 0.1], [0.1, 0.2], [0.2, 0.3], [0.8, 0.9], [0.9, 0.6], [0.3, 0.9]]
    )
    for m, nonempty in ((1, 1), (2, 3)):
        total = 0.0
        for signs in itertools.product((-1.0, 1.0), repeat=6):
            total += beyond.cell_label_variance(x, torch.tensor(signs), m)
        assert total / 2**6 == pytest.approx(6 - nonempty)


@given(
    st.integers(2, 60),
    st.integers(1, 3),
    st.floats(0.0, 20.0),
    st.integers(1, 8),
    st.integers(0, 10**6),
)
def test_every_lipschitz_function_obeys_the_cell_inequality(n, d, c, m, seed):
    """(1/n) Σ (f(x_i) − y_i)² ≥ W_m/n − 4 L √d/m for f(x) = c x_1 − 0.3 (L = c) and
    labels in [−1, 1].
    """
    g = lawlib.make_generator(seed)
    x = beyond.sample_cube(n, d, g, dtype=torch.float64)
    y = 2 * torch.rand(n, generator=g, dtype=torch.float64) - 1
    mse = float(((c * x[:, 0] - 0.3 - y) ** 2).mean())
    assert (
        mse
        >= beyond.cell_label_variance(x, y, m) / n - 4 * c * math.sqrt(d) / m - 1e-12
    )
    bound, _ = beyond.cube_fit_lipschitz_bound(x, y, mse, [m])
    assert bound <= c + 1e-9


@given(st.integers(3, 80), st.integers(1, 3), st.integers(0, 10**6))
def test_cell_bound_never_exceeds_the_best_interpolant(n, d, seed):
    x = beyond.sample_cube(n, d, seed=seed, dtype=torch.float64)
    y = lawlib.random_signs(n, seed=seed + 1, dtype=torch.float64)
    bound, m = beyond.cube_fit_lipschitz_bound(x, y, 0.0, [1, 2, 3, 5, 8])
    assert bound <= lawlib.max_pairwise_slope(x, y) * (1 + 1e-9)
    assert m in (1, 2, 3, 5, 8)


def test_cell_bound_value_and_zero_case():
    x = torch.tensor([[0.1], [0.2], [0.7], [1.0]])
    y = torch.tensor([1.0, -1.0, 1.0, 1.0])
    # m = 2: W/n = 1/2, so the bound at mse = 0.1 is 2 (0.5 − 0.1)/4 = 0.2; m = 1: (0.75
    # − 0.1)/4 = 0.1625
    assert beyond.cube_fit_lipschitz_bound(x, y, 0.1, [1, 2]) == (pytest.approx(0.2), 2)
    assert beyond.cube_fit_lipschitz_bound(x, y, 0.9, [1, 2]) == (
        0.0,
        1,
    )  # no positive bound


# ---------------------------------------------------------------------------
# the Poisson predictions


def test_unit_ball_volume():
    assert beyond.unit_ball_volume(1) == pytest.approx(2)
    assert beyond.unit_ball_volume(2) == pytest.approx(math.pi)
    assert beyond.unit_ball_volume(3) == pytest.approx(4 * math.pi / 3)
    assert beyond.unit_ball_volume(4) == pytest.approx(math.pi**2 / 2)


def test_median_min_distance_matches_the_exact_one_dimensional_law():
    for n in (100, 10_000):
        exact = (1 - 2 ** (-1 / n)) / (n - 1)
        assert beyond.median_min_distance_uniform(n, 1) == pytest.approx(
            exact, rel=2 / n
        )
    assert beyond.median_min_distance_uniform(50, 3, 0.5) == pytest.approx(
        2 ** (1 / 3) * beyond.median_min_distance_uniform(50, 3)
    )


def test_median_nn_distance_hand_value():
    assert beyond.median_nn_distance_uniform(2, 1) == pytest.approx(math.log(2) / 2)
    assert beyond.median_nn_distance_uniform(101, 2) == pytest.approx(
        math.sqrt(math.log(2) / (100 * math.pi))
    )


@given(
    st.integers(2, 120), st.integers(1, 5), st.integers(1, 50), st.integers(0, 10**6)
)
def test_nearest_neighbour_distances_against_brute_force(n, d, chunk, seed):
    x = beyond.sample_cube(n, d, seed=seed, dtype=torch.float64)
    full = torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist") + torch.diag(
        torch.full((n,), math.inf, dtype=torch.float64)
    )
    got = beyond.nearest_neighbour_distances(x, chunk=chunk)
    assert torch.allclose(got, full.min(dim=1).values, rtol=1e-9, atol=1e-12)


@given(
    st.integers(2, 80),
    st.integers(2, 6),
    st.sampled_from([1.0, 2.0, 3.0, math.inf]),
    st.integers(0, 10**6),
)
def test_opposite_label_distance_against_brute_force(n, d, p, seed):
    x = lawlib.sample_gaussian(n, d, seed=seed, dtype=torch.float64)
    y = lawlib.random_signs(n, seed=seed + 1, dtype=torch.float64)
    y[0], y[1] = 1.0, -1.0
    dist = torch.cdist(x, x, p=p, compute_mode="donot_use_mm_for_euclid_dist")
    want = float(dist[y[:, None] != y[None, :]].min())
    assert beyond.opposite_label_distance(x, y, p=p, chunk=7) == pytest.approx(
        want, rel=1e-9
    )
    if p == 2.0:
        assert 2 / want == pytest.approx(lawlib.max_pairwise_slope(x, y), rel=1e-6)


# ---------------------------------------------------------------------------
# architectures


@pytest.mark.parametrize(
    "image,d,k,layers",
    [(False, 32, 5, 2), (True, 64, 3, 2), (False, 10, 3, 3), (True, 16, 1, 1)],
)
def test_conv_net_parameter_count_and_shape(image, d, k, layers):
    c = 4
    kk = k * k if image else k
    net = beyond.conv_net(
        d,
        c,
        layers=layers,
        kernel_size=k,
        image=image,
        generator=lawlib.make_generator(0),
    )
    want = c * (kk + 1) + (layers - 1) * c * (c * kk + 1) + c * d + 1
    assert lawlib.count_parameters(net) == want
    assert net(torch.randn(7, d)).shape == (7,)
    again = beyond.conv_net(
        d,
        c,
        layers=layers,
        kernel_size=k,
        image=image,
        generator=lawlib.make_generator(0),
    )
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), again.parameters()))


def test_conv_net_is_a_convolution():
    """Shifting a signal shifts the first layer's feature maps (zero padding, away from
    the ends).
    """
    net = beyond.conv_net(
        20, 3, layers=1, kernel_size=3, generator=lawlib.make_generator(1)
    )
    x = torch.zeros(1, 20)
    x[0, 8] = 1.0
    shifted = torch.roll(x, 2, dims=1)
    conv = net[:3]  # unflatten, conv, relu
    assert torch.allclose(
        torch.roll(conv(x), 2, dims=2)[..., 3:17], conv(shifted)[..., 3:17]
    )


def test_width_for_parameters():
    def build(k, generator=None):  # P = 12 k
        return lawlib.two_layer_relu(10, k, generator=generator)

    assert beyond.width_for_parameters(build, 120) == 10
    assert (
        beyond.width_for_parameters(build, 126) == 10
    )  # tie between 120 and 132: the smaller
    assert beyond.width_for_parameters(build, 127) == 11
    assert beyond.width_for_parameters(build, 1) == 1
    assert beyond.width_for_parameters(build, 10**9, max_width=50) == 50


def test_width_for_parameters_of_a_cnn_is_the_closest():
    def build(c, generator=None):  # P = 9c^2 + 27c + 1
        return beyond.conv_net(16, c, kernel_size=3, image=True, generator=generator)

    counts = {c: lawlib.count_parameters(build(c)) for c in range(1, 40)}
    for target in (50, 200, 1000, 5000):
        w = beyond.width_for_parameters(build, target)
        assert abs(counts[w] - target) == min(abs(p - target) for p in counts.values())


# ---------------------------------------------------------------------------
# other norms


@given(
    st.integers(1, 6), st.sampled_from([1.0, 1.5, 2.0, math.inf]), st.integers(0, 10**6)
)
def test_gradient_lp_norms_of_a_linear_function(d, p, seed):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(d, generator=g, dtype=torch.float64)
    x = torch.randn(5, d, generator=g, dtype=torch.float64)
    got = lawlib.gradient_norms(lambda u: u @ w + 1.0, x, p=p)
    assert torch.allclose(got, torch.linalg.vector_norm(w, ord=p).expand(5))


def test_gradient_lp_norms_sandwich_for_a_network():
    net = lawlib.two_layer_relu(16, 30, generator=lawlib.make_generator(2))
    z = torch.randn(100, 16)
    g1, g2 = lawlib.gradient_norms(net, z, p=1), lawlib.gradient_norms(net, z, p=2)
    assert torch.allclose(g2, lawlib.gradient_norms(net, z))
    assert bool((g1 >= g2 * (1 - 1e-6)).all()) and bool(
        (g1 <= 4 * g2 * (1 + 1e-6)).all()
    )


@pytest.mark.parametrize("norm,dual", [("l2", 2.0), ("linf", 1.0)])
def test_flip_radii_of_an_affine_function(norm, dual):
    w = torch.tensor([3.0, -4.0, 1.0])
    f = lambda u: u @ w + 0.5  # noqa: E731
    z = torch.randn(40, 3, generator=torch.Generator().manual_seed(0))
    radii = beyond.flip_radii(f, z, norm=norm, max_radius=10.0, bisection_steps=14)
    want = f(z).abs() / torch.linalg.vector_norm(w, ord=dual)
    assert bool((radii >= want * (1 - 1e-4)).all())  # never below the true distance
    assert bool(
        (radii <= want + 10.0 / 2**14 + 1e-5).all()
    )  # and within the bisection tolerance
    far = beyond.flip_radii(f, z, norm=norm, max_radius=1e-3)
    assert bool(torch.isinf(far[want > 1e-3]).all())  # nothing flips within max_radius


def test_rbf_mean_square_gradient_exact_in_one_dimension():
    x = torch.tensor([[0.0], [3.0]], dtype=torch.float64)
    y = torch.tensor([1.0, -1.0], dtype=torch.float64)
    rbf = lawlib.RBFMemorizer(x, y, radius=1.0)
    # z ~ N(0, 1/d) with d = 4: P(|z| < 1) + P(|z - 3| < 1), divided by r^2 = 1
    d = 4
    s = math.sqrt(d)
    want = (_phi(s) - _phi(-s)) + (_phi(s * 4) - _phi(s * 2))
    assert beyond.rbf_mean_square_gradient(rbf, d) == pytest.approx(want, rel=1e-9)
    z = (
        torch.randn(
            400_000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
        )
        / s
    )
    mc = float(lawlib.gradient_norms(rbf, z).pow(2).mean())
    assert mc == pytest.approx(want, abs=4 * math.sqrt(want / 400_000))


# ---------------------------------------------------------------------------
# bad input


@given(st.integers(-5, 0))
def test_bad_counts_name_the_argument(k):
    raises_naming("n", beyond.sample_cube, k, 2)
    raises_naming("d", beyond.sample_cube, 3, k)
    raises_naming("m", beyond.cube_grid, k + 1, 2)
    raises_naming("n", beyond.pigeonhole_distance, k + 1, 2)
    raises_naming("d", beyond.pigeonhole_distance, 5, k)
    raises_naming("d", beyond.unit_ball_volume, k)
    raises_naming("n", beyond.median_min_distance_uniform, k + 1, 2)
    raises_naming("n", beyond.median_nn_distance_uniform, k + 1, 2)
    raises_naming("channels", beyond.conv_net, 16, k)
    raises_naming(
        "target", beyond.width_for_parameters, lambda w: lawlib.two_layer_relu(4, w), k
    )
    raises_naming("m", beyond.cell_label_variance, torch.rand(4, 2), torch.ones(4), k)
    raises_naming("chunk", beyond.nearest_neighbour_distances, torch.rand(4, 2), k)


@given(st.sampled_from([float("nan"), float("inf")]), st.integers(0, 3))
def test_non_finite_points_name_x(bad, i):
    x = torch.rand(5, 2)
    x[i, 0] = bad
    raises_naming("x", beyond.nearest_neighbour_distances, x)
    raises_naming(
        "x", beyond.opposite_label_distance, x, torch.tensor([1.0, -1, 1, -1, 1])
    )
    raises_naming("x", beyond.cell_label_variance, x, torch.ones(5), 2)
    raises_naming("x", lawlib.gradient_norms, lambda u: u.sum(1), x)


@given(st.floats(-3, 0.999) | st.just(float("nan")))
def test_bad_p_names_p(p):
    raises_naming("p", lawlib.gradient_norms, lambda u: u.sum(1), torch.rand(3, 2), p=p)
    raises_naming(
        "p",
        beyond.opposite_label_distance,
        torch.rand(4, 2),
        torch.tensor([1.0, -1, 1, -1]),
        p,
    )


def test_other_bad_inputs_name_the_argument():
    x, y = torch.rand(4, 2), torch.tensor([1.0, -1, 1, -1])
    raises_naming("x", beyond.cell_label_variance, x + 1, y, 2)  # outside the cube
    raises_naming("y", beyond.cell_label_variance, x, y[:3], 2)
    raises_naming(
        "y", beyond.cube_fit_lipschitz_bound, x, 2 * y, 0.1, [1]
    )  # labels outside [-1, 1]
    raises_naming("mse", beyond.cube_fit_lipschitz_bound, x, y, -0.1, [1])
    raises_naming("ms", beyond.cube_fit_lipschitz_bound, x, y, 0.1, [])
    raises_naming("ms[1]", beyond.cube_fit_lipschitz_bound, x, y, 0.1, [1, 0])
    raises_naming(
        "y", beyond.opposite_label_distance, x, torch.ones(4)
    )  # one label only
    raises_naming("pairs_fraction", beyond.median_min_distance_uniform, 10, 2, 1.5)
    raises_naming("pairs_fraction", beyond.median_min_distance_uniform, 10, 2, 0.0)
    raises_naming("m", beyond.cube_grid, 10**4, 2)  # 10^8 points
    raises_naming("kernel_size", beyond.conv_net, 16, 2, kernel_size=4)
    raises_naming("d", beyond.conv_net, 15, 2, image=True)
    raises_naming("image", beyond.conv_net, 16, 2, image="yes")
    raises_naming("generator", beyond.conv_net, 16, 2, generator=3)
    raises_naming("build", beyond.width_for_parameters, 3, 10)
    raises_naming(
        "norm", beyond.flip_radii, lambda u: u.sum(1), torch.rand(3, 2), norm="l1"
    )
    raises_naming(
        "max_radius",
        beyond.flip_radii,
        lambda u: u.sum(1),
        torch.rand(3, 2),
        max_radius=0,
    )
    raises_naming(
        "rbf", beyond.rbf_mean_square_gradient, lawlib.two_layer_relu(2, 3), 2
    )
