"""Tests of lawlib.lipschitz: exact gradient norms, lower bounds never above the truth,
upper >= lower.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from helpers import raises_naming, randn
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from lawlib import (
    LipschitzEstimate,
    gradient_ascent_lipschitz,
    gradient_norms,
    make_generator,
    max_gradient_norm,
    max_pairwise_slope,
    mlp,
    sample_sphere,
    spectral_norm_product,
    two_layer_relu,
)

# ----------------------------------------------------------------------------- gradient
# norms


@given(
    m=st.integers(1, 20),
    d=st.integers(1, 8),
    seed=st.integers(0, 2**31),
    batch=st.integers(1, 25),
)
def test_gradient_norm_of_linear_function_is_norm_of_w(m, d, seed, batch):
    w = randn(d, seed=seed)
    x = randn(m, d, seed=seed + 1)
    g = gradient_norms(lambda z: z @ w, x, batch_size=batch)
    assert g.shape == (m,)
    assert torch.allclose(g, w.norm().expand(m), rtol=1e-12, atol=0)
    assert max_gradient_norm(lambda z: z @ w, x) == pytest.approx(
        float(w.norm()), rel=1e-12
    )


@given(
    m=st.integers(1, 20),
    d=st.integers(1, 8),
    seed=st.integers(0, 2**31),
    batch=st.integers(1, 25),
)
def test_gradient_norm_of_half_square_norm_is_norm_of_x(m, d, seed, batch):
    x = randn(m, d, seed=seed)
    g = gradient_norms(lambda z: 0.5 * (z * z).sum(1), x, batch_size=batch)
    assert torch.allclose(g, x.norm(dim=1), rtol=1e-12, atol=0)
    assert max_gradient_norm(
        lambda z: 0.5 * (z * z).sum(1), x, batch_size=batch
    ) == pytest.approx(float(x.norm(dim=1).max()), rel=1e-12)


def test_gradient_norms_accepts_column_output_and_does_not_touch_input():
    x = randn(6, 3)
    before = x.clone()
    net = nn.Linear(3, 1).double()  # output (m, 1)
    g = gradient_norms(net, x)
    assert torch.allclose(g, net.weight.detach().norm().expand(6), rtol=1e-12, atol=0)
    assert torch.equal(x, before) and not x.requires_grad


def test_gradient_norms_under_no_grad():
    # Chapters call it inside torch.no_grad() blocks too; it must still differentiate.
    w = randn(4)
    with torch.no_grad():
        g = gradient_norms(lambda z: z @ w, randn(3, 4))
    assert torch.allclose(g, w.norm().expand(3), rtol=1e-12, atol=0)


def test_gradient_norms_rejects_bad_function_output():
    raises_naming("f", gradient_norms, lambda z: z, randn(3, 2))  # (m, d)
    raises_naming("f", gradient_norms, lambda z: z.sum(), randn(3, 2))  # scalar


# ----------------------------------------------------------------------------- gradient
# ascent


def test_gradient_ascent_finds_lipschitz_constant_of_sine():
    # f(x) = sin(<w, x>) has gradient cos(<w, x>) w, so Lip(f) = ||w||, attained where
    # <w, x> = k pi.
    d = 5
    w = randn(d, seed=3) * 2
    lip = float(w.norm())
    f = lambda z: torch.sin(z @ w)  # noqa: E731
    starts = randn(8, d, seed=4)
    est = gradient_ascent_lipschitz(
        f, starts, steps=150, step_size=0.05, generator=make_generator(0)
    )
    assert isinstance(est, LipschitzEstimate)
    assert 0.95 * lip <= est.value <= lip * (1 + 1e-9)
    # The reported value is the gradient norm at the reported point.
    assert est.point.shape == (d,)
    assert float(gradient_norms(f, est.point[None])[0]) == pytest.approx(
        est.value, rel=1e-9
    )
    # It never goes below where it started.
    assert est.value >= max_gradient_norm(f, starts) - 1e-12


@given(seed=st.integers(0, 2**31))
def test_gradient_ascent_never_exceeds_true_lipschitz_constant(seed):
    d = 3
    w = randn(d, seed=seed) + 0.1
    lip = float(w.norm())
    f = lambda z: torch.sin(z @ w)  # noqa: E731
    est = gradient_ascent_lipschitz(
        f,
        randn(4, d, seed=seed + 1),
        steps=20,
        step_size=0.3,
        generator=make_generator(seed),
    )
    assert est.value <= lip * (1 + 1e-9)


def test_gradient_ascent_with_zero_steps_is_max_gradient_norm_at_starts():
    starts = randn(7, 3, seed=1)
    f = lambda z: 0.5 * (z * z).sum(1)  # noqa: E731
    est = gradient_ascent_lipschitz(f, starts, steps=0)
    i = int(starts.norm(dim=1).argmax())
    assert est.value == pytest.approx(float(starts[i].norm()), rel=1e-12)
    assert torch.equal(est.point, starts[i])


def test_gradient_ascent_on_relu_net_is_between_random_gradient_and_spectral_bound():
    net = two_layer_relu(4, 16, generator=make_generator(0))
    starts = sample_sphere(8, 4, seed=1)
    est = gradient_ascent_lipschitz(net, starts, steps=50, step_size=0.1)
    assert max_gradient_norm(net, starts) <= est.value + 1e-6
    assert est.value <= spectral_norm_product(net) * (1 + 1e-5)


def test_gradient_ascent_is_reproducible():
    f = lambda z: torch.sin(z.sum(1))  # noqa: E731
    starts = randn(3, 2, seed=2)
    a = gradient_ascent_lipschitz(f, starts, steps=10, generator=make_generator(5))
    b = gradient_ascent_lipschitz(f, starts, steps=10, generator=make_generator(5))
    assert a.value == b.value and torch.equal(a.point, b.point)


# ----------------------------------------------------------------------------- max
# pairwise slope


def brute_slope(x: torch.Tensor, v: torch.Tensor) -> float:
    best = 0.0
    n = x.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            best = max(best, abs(float(v[i] - v[j])) / float((x[i] - x[j]).norm()))
    return best


def test_max_pairwise_slope_hand_example():
    x = torch.tensor([[0.0], [1.0], [3.0]])
    v = torch.tensor([0.0, 2.0, 3.0])  # slopes 2, 1, 0.5
    for chunk in (1, 2, 3, 10):
        assert max_pairwise_slope(x, v, chunk=chunk) == 2.0
    # 3-4-5 triangle: |v_i - v_j| = 10 over distance 5.
    assert (
        max_pairwise_slope(
            torch.tensor([[0.0, 0.0], [3.0, 4.0]]), torch.tensor([0.0, 10.0])
        )
        == 2.0
    )


@given(
    n=st.integers(2, 14),
    d=st.integers(1, 4),
    seed=st.integers(0, 2**31),
    chunk=st.integers(1, 16),
)
def test_max_pairwise_slope_equals_brute_force(n, d, seed, chunk):
    x = randn(n, d, seed=seed)
    v = randn(n, seed=seed + 1)
    assert max_pairwise_slope(x, v, chunk=chunk) == pytest.approx(
        brute_slope(x, v), rel=1e-9
    )


@given(n=st.integers(2, 40), d=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_max_pairwise_slope_of_linear_values_is_at_most_norm_w(n, d, seed):
    w = randn(d, seed=seed)
    x = randn(n, d, seed=seed + 1)
    slope = max_pairwise_slope(x, x @ w)
    assert slope <= float(w.norm()) * (1 + 1e-9)
    # Adding the pair (0, w) attains it exactly.
    x2 = torch.cat([x, torch.zeros(1, d), w[None]])
    assert max_pairwise_slope(x2, x2 @ w) == pytest.approx(float(w.norm()), rel=1e-9)


def test_max_pairwise_slope_float32_close_pair_many_points():
    # More than 25 points (where torch.cdist switches to the matrix-multiply formula)
    # and one pair at
    # distance ~1e-3 with values differing by 1: the slope is ~1000 and must be computed
    # accurately.
    x = randn(40, 3, seed=0, dtype=torch.float32)
    x[1] = x[0] + torch.tensor([1e-3, 0.0, 0.0])
    v = torch.zeros(40)
    v[1] = 1.0
    truth = 1.0 / float((x[1].double() - x[0].double()).norm())
    assert max_pairwise_slope(x, v) == pytest.approx(truth, rel=1e-3)


def test_max_pairwise_slope_duplicates():
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    raises_naming("x", max_pairwise_slope, x, torch.tensor([0.0, 1.0, 5.0]))
    # Duplicates with equal values are fine: the pair contributes nothing.
    assert max_pairwise_slope(x, torch.tensor([0.0, 3.0, 0.0])) == 3.0
    # Also detected among many points and across chunks.
    big = randn(40, 3, seed=1, dtype=torch.float32)
    big[37] = big[2]
    vals = torch.arange(40.0)
    for chunk in (1, 5, 1024):
        raises_naming("x", max_pairwise_slope, big, vals, chunk=chunk)


@given(n=st.integers(2, 6), m=st.integers(1, 8))
def test_max_pairwise_slope_rejects_wrong_length_values(n, m):
    if n == m:
        return
    raises_naming("values", max_pairwise_slope, randn(n, 2), randn(m))


@given(chunk=st.one_of(st.integers(max_value=0), st.floats(), st.none()))
def test_max_pairwise_slope_rejects_bad_chunk(chunk):
    raises_naming("chunk", max_pairwise_slope, randn(4, 2), randn(4), chunk=chunk)


# ----------------------------------------------------------------------------- spectral
# norm product


def test_spectral_norm_of_diagonal_linear():
    lin = nn.Linear(3, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.diag(torch.tensor([2.0, -5.0, 1.0])))
    assert spectral_norm_product(lin) == pytest.approx(5.0, rel=1e-6)
    lin2 = copy.deepcopy(lin)
    assert spectral_norm_product(nn.Sequential(lin, nn.ReLU(), lin2)) == pytest.approx(
        25.0, rel=1e-6
    )
    # Nested Sequentials multiply.
    assert spectral_norm_product(
        nn.Sequential(nn.Sequential(lin, nn.Tanh()), lin2)
    ) == pytest.approx(25.0, rel=1e-6)


def test_spectral_norm_counts_a_reused_layer_each_time():
    # nn.Sequential(lin, ReLU, lin) applies the same layer twice (weight sharing). Along
    # -e_2 the map is
    # x -> -5x -> ReLU -> 5|x| -> -25|x|: Lipschitz constant 25, so the upper bound must
    # be >= 25.
    lin = nn.Linear(3, 3, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.diag(torch.tensor([2.0, -5.0, 1.0])))
    net = nn.Sequential(lin, nn.ReLU(), lin)
    f = lambda z: net(z)[:, 1]  # noqa: E731
    assert max_gradient_norm(f, torch.tensor([[0.0, -1.0, 0.0]])) == pytest.approx(25.0)
    assert spectral_norm_product(net) == pytest.approx(25.0, rel=1e-6)


@given(d=st.integers(1, 10), k=st.integers(1, 30), seed=st.integers(0, 2**31))
def test_spectral_norm_of_two_layer_relu(d, k, seed):
    net = two_layer_relu(d, k, generator=make_generator(seed))
    w = net[0].weight.detach().double()
    a = net[2].weight.detach().double()
    expected = float(a.norm()) * float(torch.linalg.matrix_norm(w, ord=2))
    assert spectral_norm_product(net) == pytest.approx(expected, rel=1e-5)


@given(
    d=st.integers(2, 6),
    widths=st.lists(st.integers(1, 12), min_size=1, max_size=3),
    seed=st.integers(0, 2**31),
)
def test_spectral_norm_is_an_upper_bound_on_gradient_norms(d, widths, seed):
    net = mlp(d, widths, generator=make_generator(seed))
    x = torch.randn(200, d, generator=make_generator(seed + 1))
    upper = spectral_norm_product(net)
    lower = max_gradient_norm(net, x)
    assert lower <= upper * (1 + 1e-5)


@pytest.mark.parametrize(
    "activation",
    [
        nn.LeakyReLU(negative_slope=3.0),
        nn.ELU(alpha=3.0),
        nn.Softplus(beta=2.0),
        nn.Tanh(),
        nn.ReLU(),
    ],
    ids=["leaky_relu_slope3", "elu_alpha3", "softplus", "tanh", "relu"],
)
def test_spectral_norm_upper_bound_holds_for_every_accepted_activation(activation):
    # Lip(x -> activation(s * x)) along a direction where the pre-activation is
    # negative: the bound
    # Π ||W|| assumes 1-Lipschitz activations, so one that is steeper must not be
    # accepted silently.
    lin = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        lin.weight.fill_(1.0)
    net = nn.Sequential(lin, activation, nn.Flatten(0))
    x = torch.linspace(-0.5, -0.01, 50)[:, None]
    upper = spectral_norm_product(net)
    lower = max_gradient_norm(net, x)
    assert lower <= upper * (1 + 1e-6)


def test_spectral_norm_with_batchnorm_in_eval_mode():
    torch.manual_seed(0)
    bn = nn.BatchNorm1d(4)
    with torch.no_grad():
        bn.running_var.copy_(torch.tensor([1.0, 4.0, 0.25, 9.0]))
        bn.weight.copy_(torch.tensor([1.0, -3.0, 0.5, 2.0]))
    lin1, lin2 = nn.Linear(3, 4), nn.Linear(4, 1)
    net = nn.Sequential(lin1, bn, nn.ReLU(), lin2, nn.Flatten(0)).eval()
    scale = (bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)).abs().max()
    expected = (
        float(torch.linalg.matrix_norm(lin1.weight.detach(), ord=2))
        * float(scale)
        * float(torch.linalg.matrix_norm(lin2.weight.detach(), ord=2))
    )
    assert spectral_norm_product(net) == pytest.approx(expected, rel=1e-5)
    assert max_gradient_norm(net, torch.randn(100, 3)) <= spectral_norm_product(net) * (
        1 + 1e-5
    )
    # Without affine parameters the scale is 1 / sqrt(var + eps).
    bn2 = nn.BatchNorm1d(2, affine=False)
    with torch.no_grad():
        bn2.running_var.copy_(torch.tensor([0.25, 1.0]))
    assert spectral_norm_product(nn.Sequential(bn2).eval()) == pytest.approx(
        1 / math.sqrt(0.25 + bn2.eps), rel=1e-6
    )


def test_spectral_norm_refuses_batchnorm_in_training_mode():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    with pytest.raises(ValueError, match="BatchNorm"):
        spectral_norm_product(net)


def test_spectral_norm_refuses_batchnorm_without_running_stats():
    # In eval mode a BatchNorm1d(track_running_stats=False) normalises by the batch's
    # own statistics:
    # not a fixed linear map, so it cannot be bounded this way; it must raise ValueError
    # (not crash).
    net = nn.Sequential(
        nn.Linear(3, 4), nn.BatchNorm1d(4, track_running_stats=False), nn.Linear(4, 1)
    ).eval()
    with pytest.raises(ValueError, match="BatchNorm"):
        spectral_norm_product(net)


@pytest.mark.parametrize("layer", [nn.Sigmoid(), nn.Conv1d(1, 1, 3), nn.Softmax(dim=1)])
def test_spectral_norm_refuses_unknown_layers(layer):
    net = nn.Sequential(nn.Linear(3, 3), layer)
    with pytest.raises(ValueError, match=type(layer).__name__):
        spectral_norm_product(net)


@pytest.mark.parametrize("bad", [None, 3, torch.zeros(3), "net"])
def test_spectral_norm_refuses_non_modules(bad):
    raises_naming("model", spectral_norm_product, bad)


def test_spectral_norm_refuses_empty_model():
    raises_naming("model", spectral_norm_product, nn.Sequential())


# ----------------------------------------------------------------------------- bad
# input


@given(
    shape=st.one_of(
        st.tuples(st.integers(0, 5)),
        st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    )
)
def test_wrong_rank_raises(shape):
    x = torch.zeros(shape)
    f = lambda z: z.sum(-1)  # noqa: E731
    raises_naming("x", gradient_norms, f, x)
    raises_naming("x", max_gradient_norm, f, x)
    raises_naming("starts", gradient_ascent_lipschitz, f, x, steps=1)
    raises_naming("x", max_pairwise_slope, x, torch.zeros(shape[0]))


@given(
    bad=st.sampled_from([float("nan"), float("inf"), -float("inf")]),
    i=st.integers(0, 2),
    k=st.integers(0, 1),
)
def test_nonfinite_raises(bad, i, k):
    x = torch.randn(3, 2)
    x[i, k] = bad
    f = lambda z: z.sum(-1)  # noqa: E731
    raises_naming("x", gradient_norms, f, x)
    raises_naming("starts", gradient_ascent_lipschitz, f, x, steps=1)
    raises_naming("x", max_pairwise_slope, x, torch.zeros(3))
    v = torch.zeros(3)
    v[i] = bad
    raises_naming("values", max_pairwise_slope, torch.randn(3, 2), v)


def test_fewer_than_two_points_for_pairwise_slope():
    raises_naming("x", max_pairwise_slope, torch.zeros(1, 2), torch.zeros(1))


@given(
    step_size=st.one_of(
        st.floats(max_value=0.0),
        st.just(float("nan")),
        st.just(float("inf")),
        st.none(),
    )
)
def test_bad_step_size_raises(step_size):
    raises_naming(
        "step_size",
        gradient_ascent_lipschitz,
        lambda z: z.sum(1),
        randn(2, 2),
        steps=1,
        step_size=step_size,
    )


@given(steps=st.one_of(st.integers(max_value=-1), st.floats(), st.text(max_size=2)))
def test_bad_steps_raises(steps):
    raises_naming(
        "steps", gradient_ascent_lipschitz, lambda z: z.sum(1), randn(2, 2), steps=steps
    )


@given(batch=st.one_of(st.integers(max_value=0), st.floats(), st.none()))
def test_bad_batch_size_raises(batch):
    raises_naming(
        "batch_size", gradient_norms, lambda z: z.sum(1), randn(2, 2), batch_size=batch
    )


def test_bad_generator_raises():
    raises_naming(
        "generator",
        gradient_ascent_lipschitz,
        lambda z: z.sum(1),
        randn(2, 2),
        steps=1,
        generator=7,
    )
