"""Tests of lawlib.constructions: exact interpolation, exact Lipschitz constants, bad
input.
"""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import lawlib
from lawlib.constructions import (
    CapOverlapWarning,
    McShaneExtension,
    NeuronPerPoint,
    RBFMemorizer,
    WhitneyExtension,
)

D64 = torch.float64
FAST = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def sphere_data(n: int, d: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    x = lawlib.sample_sphere(n, d, seed=seed, dtype=D64)
    y = lawlib.random_signs(n, seed=seed + 1).to(D64)
    return x, y


def slopes(f, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """|f(a_k) − f(b_k)| / ‖a_k − b_k‖ for paired rows."""
    return ((f(a) - f(b)).abs() / (a - b).norm(dim=1)).detach()


@st.composite
def small_instance(draw, min_dim: int = 1):
    """n in 2..7 distinct points in R^d (d in 1..4) with labels in [−3, 3], float64."""
    n = draw(st.integers(2, 7))
    d = draw(st.integers(min_dim, 4))
    seed = draw(st.integers(0, 10_000))
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=D64)
    y = (torch.rand(n, generator=g, dtype=D64) * 6 - 3).round(decimals=2)
    assume(float(torch.pdist(x).min()) > 1e-2)
    return x, y, g


# ---------------------------------------------------------------- hand-computed cases


def test_mcshane_hand_values_1d():
    x = torch.tensor([[0.0], [1.0], [3.0]], dtype=D64)
    y = torch.tensor([0.0, 2.0, 1.0], dtype=D64)
    m = McShaneExtension(x, y)
    w = WhitneyExtension(x, y)
    assert m.lipschitz == pytest.approx(2.0) and m.minimal_lipschitz == pytest.approx(
        2.0
    )
    z = torch.tensor([[-1.0], [0.5], [2.0], [5.0]], dtype=D64)
    # M(z) = min(0 + 2|z|, 2 + 2|z − 1|, 1 + 2|z − 3|)
    assert torch.allclose(m(z), torch.tensor([2.0, 1.0, 3.0, 5.0], dtype=D64))
    # W(z) = max(0 − 2|z|, 2 − 2|z − 1|, 1 − 2|z − 3|)
    assert torch.allclose(w(z), torch.tensor([-2.0, 1.0, 0.0, -3.0], dtype=D64))
    assert m.n_parameters == 3 * 2 + 1 and m.n_neurons == 3


def test_mcshane_larger_constant_is_kept_and_smaller_refused():
    x = torch.tensor([[0.0], [1.0]], dtype=D64)
    y = torch.tensor([0.0, 1.0], dtype=D64)
    m = McShaneExtension(x, y, lipschitz=3.0)
    assert m.lipschitz == 3.0 and m.minimal_lipschitz == pytest.approx(1.0)
    assert float(m(torch.tensor([[2.0]], dtype=D64))) == pytest.approx(1.0 + 3.0)
    assert torch.allclose(m(x), y)
    with pytest.raises(ValueError, match="lipschitz"):
        McShaneExtension(x, y, lipschitz=0.5)


def test_rbf_hand_values():
    x = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 3.0]], dtype=D64)
    y = torch.tensor([1.0, -2.0, 0.5], dtype=D64)
    f = RBFMemorizer(x, y)
    assert f.min_distance == pytest.approx(3.0) and f.radius == pytest.approx(1.5)
    assert f.lipschitz == pytest.approx(2.0 / 1.5)
    z = torch.tensor([[0.75, 0.0], [4.0, 0.3], [10.0, 10.0], [0.0, 1.5]], dtype=D64)
    assert torch.allclose(f(z), torch.tensor([0.5, -2.0 * 0.8, 0.0, 0.0], dtype=D64))
    g = RBFMemorizer(x, y, radius=1.0)
    assert g.lipschitz == pytest.approx(2.0) and float(
        g(torch.tensor([[4.5, 0.0]], dtype=D64))
    ) == pytest.approx(-1.0)
    assert f.n_parameters == 3 * 3 + 1 and f.n_neurons == 3


def test_neuron_per_point_hand_values():
    x = torch.eye(3, dtype=D64)
    y = torch.tensor([1.0, -2.0, 0.5], dtype=D64)
    f = NeuronPerPoint(x, y)
    assert f.c == pytest.approx(10.0) and f.tau == 0.9
    assert torch.allclose(f(x), y, atol=1e-12)
    z = torch.tensor([[0.95, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 1.0, 1.0]], dtype=D64)
    # 10·1·(0.95 − 0.9); 0; 10·(−2)(1 − 0.9) + 10·0.5·(1 − 0.9)
    assert torch.allclose(f(z), torch.tensor([0.5, 0.0, -2.0 + 0.5], dtype=D64))
    assert f.caps_disjoint() and f.isolates_points() and f.lipschitz_exact
    assert f.lipschitz == pytest.approx(20.0) and f.lipschitz_upper == pytest.approx(
        20.0
    )
    assert f.n_parameters == 3 * (3 + 2) == lawlib.count_parameters(f)
    assert f.n_neurons == 3
    # on R^d all three neurons fire at (1, 1, 1)·t: gradient 10·(1, −2, 0.5)
    assert f.lipschitz_upper_bound_rd() >= 10 * math.sqrt(1 + 4 + 0.25) - 1e-9


def test_neuron_per_point_overlapping_caps_warns_and_bounds():
    # 45° apart: inner product 0.707 lies in (2τ² − 1, τ) = (0.62, 0.9): points
    # isolated, caps overlapping
    x = torch.tensor(
        [[1.0, 0.0], [math.cos(math.pi / 4), math.sin(math.pi / 4)]], dtype=D64
    )
    y = torch.tensor([1.0, 1.0], dtype=D64)
    with pytest.warns(CapOverlapWarning):
        f = NeuronPerPoint(x, y)
    assert f.isolates_points() and not f.caps_disjoint() and not f.lipschitz_exact
    assert torch.allclose(f(x), y, atol=1e-12)
    assert f.lipschitz_lower == pytest.approx(
        10.0
    ) and f.lipschitz_upper == pytest.approx(20.0)
    # both neurons fire at the unit vector between them: gradient 10(x_1 + x_2), inside
    # the bracket
    mid = (x[0] + x[1])[None] / (x[0] + x[1]).norm()
    g = float(lawlib.gradient_norms(f, mid)[0])
    assert (
        g == pytest.approx(10 * float((x[0] + x[1]).norm()))
        and f.lipschitz_lower < g <= f.lipschitz_upper
    )
    with pytest.raises(ValueError, match="x"):
        NeuronPerPoint(x, y, strict=True)


def test_neuron_per_point_boundary_caps_are_disjoint():
    """⟨x_1, x_2⟩ = 2τ² − 1 exactly: the caps touch at one point, where both neurons are
    0.
    """
    tau = 0.9
    angle = 2 * math.acos(tau)
    x = torch.tensor([[1.0, 0.0], [math.cos(angle), math.sin(angle)]], dtype=D64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = NeuronPerPoint(x, torch.tensor([1.0, -1.0], dtype=D64))
    assert f.caps_disjoint()
    touch = torch.tensor([[math.cos(angle / 2), math.sin(angle / 2)]], dtype=D64)
    assert abs(float(f(touch).detach())) < 1e-12


# ---------------------------------------------------------------- exact properties on
# random instances


@FAST
@given(small_instance())
def test_mcshane_whitney_interpolate_and_are_L_lipschitz(inst):
    x, y, g = inst
    m, w = McShaneExtension(x, y), WhitneyExtension(x, y)
    assert torch.allclose(m(x), y, atol=1e-10) and torch.allclose(w(x), y, atol=1e-10)
    assert m.lipschitz == pytest.approx(lawlib.max_pairwise_slope(x, y), rel=1e-12)
    z = torch.randn(200, x.shape[1], generator=g, dtype=D64) * 2
    z2 = z + torch.randn(200, x.shape[1], generator=g, dtype=D64) * 0.3
    assert bool((w(z) <= m(z) + 1e-10).all())
    for f in (m, w):
        assert float(slopes(f, z, z2).max()) <= f.lipschitz * (1 + 1e-9) + 1e-12
        # the gradient has norm exactly L almost everywhere
        if f.lipschitz > 0:
            assert torch.allclose(
                lawlib.gradient_norms(f, z),
                torch.full((200,), f.lipschitz, dtype=D64),
                rtol=1e-9,
            )


@FAST
@given(small_instance())
def test_every_L_lipschitz_interpolant_lies_between_whitney_and_mcshane(inst):
    x, y, g = inst
    m, w = McShaneExtension(x, y), WhitneyExtension(x, y)
    z = torch.randn(100, x.shape[1], generator=g, dtype=D64) * 2
    # the average (M + W)/2 and the larger-L McShane clipped to [W, M] are L-Lipschitz
    # interpolants
    mid = (m(z) + w(z)) / 2
    assert bool(((w(z) <= mid + 1e-12) & (mid <= m(z) + 1e-12)).all())
    # a larger constant L' > L gives a larger upper extension (it is not L-Lipschitz, so
    # it may exceed M)
    big = McShaneExtension(x, y, lipschitz=2 * m.lipschitz + 1.0)
    assert bool((big(z) >= m(z) - 1e-12).all())
    assert torch.allclose(big(x), y, atol=1e-10)


@FAST
@given(small_instance(), st.floats(0.2, 1.0))
def test_rbf_interpolates_and_lip_is_max_label_over_radius(inst, frac):
    x, y, g = inst
    half = float(torch.pdist(x).min()) / 2
    f = RBFMemorizer(x, y, radius=frac * half)
    assert torch.allclose(f(x), y, atol=1e-10)
    assert f.lipschitz == pytest.approx(float(y.abs().max()) / (frac * half), rel=1e-12)
    z = torch.randn(300, x.shape[1], generator=g, dtype=D64)
    z2 = z + torch.randn(300, x.shape[1], generator=g, dtype=D64) * 0.2
    assert float(slopes(f, z, z2).max()) <= f.lipschitz * (1 + 1e-9) + 1e-12
    # attained: f(x_i) = y_i and f(x_i + r u) = 0 at distance r
    i = int(y.abs().argmax())
    u = torch.randn(1, x.shape[1], generator=g, dtype=D64)
    edge = x[i : i + 1] + f.radius * u / u.norm()
    assert abs(float(f(edge))) < 1e-10
    assert float(slopes(f, x[i : i + 1], edge)[0]) == pytest.approx(
        f.lipschitz, rel=1e-9
    )


def test_rbf_touching_balls_is_still_exactly_lipschitz():
    """Two points at distance exactly 2r: the closed balls touch, the slope through the
    contact point is max|y|/r.
    """
    x = torch.tensor([[0.0], [2.0]], dtype=D64)
    y = torch.tensor([1.0, -1.0], dtype=D64)
    f = RBFMemorizer(x, y)
    assert f.radius == 1.0 and f.lipschitz == 1.0
    t = torch.linspace(-1.5, 3.5, 2001, dtype=D64)[:, None]
    v = f(t)
    assert float(
        ((v[1:] - v[:-1]).abs() / (t[1:] - t[:-1]).abs()[:, 0]).max()
    ) == pytest.approx(1.0, rel=1e-9)
    assert float(slopes(f, x[:1], x[1:])[0]) == pytest.approx(
        1.0
    )  # the chord through the contact point


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 40), st.integers(0, 1000))
def test_neuron_per_point_exact_on_random_sphere_data(n, seed):
    x, y = sphere_data(n, 60, seed)
    y = y * (
        1 + torch.rand(n, generator=torch.Generator().manual_seed(seed), dtype=D64)
    )
    f = NeuronPerPoint(
        x, y, strict=True
    )  # n ≤ 40 points in d = 60: caps disjoint w.h.p.
    assert torch.allclose(f(x), y, atol=1e-12)
    assert f.lipschitz == pytest.approx(10 * float(y.abs().max()))
    z = lawlib.sample_sphere(200, 60, seed=seed + 7, dtype=D64) * torch.rand(
        200, 1, dtype=D64
    )  # inside the ball
    z2 = z + 0.05 * torch.randn(200, 60, dtype=D64)
    z2 = z2 / z2.norm(dim=1, keepdim=True).clamp_min(1.0)
    assert float(slopes(f, z, z2).max()) <= f.lipschitz * (1 + 1e-9)
    # along the radius through x_i the slope is exactly c|y_i|
    i = int(y.abs().argmax())
    assert float(slopes(f, x[i : i + 1], 0.97 * x[i : i + 1])[0]) == pytest.approx(
        f.lipschitz, rel=1e-9
    )


# ---------------------------------------------------------------- lawlib's estimators
# recover the exact constants


@pytest.mark.parametrize("cls", [McShaneExtension, RBFMemorizer, NeuronPerPoint])
def test_estimators_within_five_percent_of_exact(cls):
    x, y = sphere_data(300, 40, seed=5)
    f = cls(x, y)
    assert (f(x) - y).abs().max() < 1e-10
    starts = x[:40] + 0.02 * torch.randn(
        40, 40, generator=torch.Generator().manual_seed(1), dtype=D64
    )
    est = lawlib.gradient_ascent_lipschitz(f, starts, steps=60, step_size=0.02)
    assert 0.95 * f.lipschitz <= est.value <= f.lipschitz * (1 + 1e-9)
    slope = lawlib.max_pairwise_slope(x, f(x).detach())
    assert slope <= f.lipschitz * (1 + 1e-9)
    if cls is McShaneExtension:
        assert slope == pytest.approx(
            f.lipschitz, rel=1e-9
        )  # attained by a pair of data points


@pytest.mark.filterwarnings("ignore::lawlib.constructions.CapOverlapWarning")
def test_float32_and_chunking_agree():
    x, y = sphere_data(257, 20, seed=9)
    z = lawlib.sample_sphere(300, 20, seed=10, dtype=D64)
    for cls in (McShaneExtension, RBFMemorizer, NeuronPerPoint):
        whole, chunked = cls(x, y, chunk=10_000), cls(x, y, chunk=7)
        assert torch.allclose(whole(z), chunked(z), atol=1e-12)
        f32 = cls(x.float(), y.float())
        assert (f32(x.float()) - y.float()).abs().max() < 1e-5
        assert f32(z.float()).dtype == torch.float32
        assert f32(z[:0].float()).shape == (0,)


def test_spectral_norm_product_bounds_the_network_on_rd():
    x, y = sphere_data(50, 30, seed=2)
    f = NeuronPerPoint(x, y)
    assert lawlib.spectral_norm_product(f) == pytest.approx(
        f.lipschitz_upper_bound_rd(), rel=1e-6
    )
    assert f.lipschitz_upper_bound_rd() >= f.lipschitz


# ---------------------------------------------------------------- bad input


@pytest.mark.filterwarnings("ignore::lawlib.constructions.CapOverlapWarning")
@pytest.mark.parametrize(
    "cls", [McShaneExtension, WhitneyExtension, RBFMemorizer, NeuronPerPoint]
)
def test_bad_input_names_the_argument(cls):
    x, y = sphere_data(5, 3)
    with pytest.raises(ValueError, match="x"):
        cls(x[:1], y[:1])  # fewer than 2 points
    with pytest.raises(ValueError, match="x"):
        cls(x[0], y)  # not a matrix
    with pytest.raises(ValueError, match="y"):
        cls(x, y[:4])  # labels of the wrong length
    bad = x.clone()
    bad[2, 1] = float("nan")
    with pytest.raises(ValueError, match="x"):
        cls(bad, y)
    ybad = y.clone()
    ybad[0] = float("inf")
    with pytest.raises(ValueError, match="y"):
        cls(x, ybad)
    dup = x.clone()
    dup[3] = dup[1]
    with pytest.raises(ValueError, match="x"):
        cls(dup, y)
    f = cls(x, y) if cls is not NeuronPerPoint else cls(x, y, strict=False)
    with pytest.raises(ValueError, match="z"):
        f(torch.zeros(4, 2, dtype=D64))
    with pytest.raises(ValueError, match="chunk"):
        cls(x, y, chunk=0)


@settings(max_examples=30, deadline=None)
@given(
    st.one_of(st.floats(max_value=0.0), st.just(float("nan")), st.just(float("inf")))
)
def test_rbf_radius_must_be_positive(r):
    x, y = sphere_data(5, 3)
    with pytest.raises(ValueError, match="radius"):
        RBFMemorizer(x, y, radius=r)


def test_rbf_radius_above_half_min_distance_refused():
    x, y = sphere_data(5, 3)
    half = lawlib.min_pairwise_distance(x).value / 2
    RBFMemorizer(x, y, radius=half)
    with pytest.raises(ValueError, match="radius"):
        RBFMemorizer(x, y, radius=1.01 * half)


@settings(max_examples=30, deadline=None)
@given(
    st.one_of(st.floats(max_value=0.0), st.floats(min_value=1.0), st.just(float("nan")))
)
def test_neuron_per_point_tau_in_open_unit_interval(tau):
    x, y = sphere_data(5, 3)
    with pytest.raises(ValueError, match="tau"):
        NeuronPerPoint(x, y, tau=tau)


def test_neuron_per_point_needs_sphere_and_matching_c():
    x, y = sphere_data(5, 30)
    with pytest.raises(ValueError, match="x"):
        NeuronPerPoint(2 * x, y)
    with pytest.raises(ValueError, match="c"):
        NeuronPerPoint(x, y, c=5.0)
    with pytest.raises(ValueError, match="c"):
        NeuronPerPoint(x, y, c=-10.0)
    NeuronPerPoint(x, y, c=10.0, tau=0.9)
    with pytest.raises(ValueError, match="x"):  # two points in one cap: no exact fit
        NeuronPerPoint(
            torch.tensor([[1.0, 0.0], [0.99, math.sqrt(1 - 0.99**2)]], dtype=D64), y[:2]
        )


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 1), st.integers(1, 3))
def test_mcshane_refuses_wrong_label_counts(extra, d):
    x = torch.randn(4, d, dtype=D64)
    with pytest.raises(ValueError, match="y"):
        McShaneExtension(x, torch.zeros(4 + 1 + extra, dtype=D64))
    with pytest.raises(ValueError, match="lipschitz"):
        McShaneExtension(x, torch.zeros(4, dtype=D64), lipschitz=-1.0)
