"""Tests of lawlib.chapters.weight_bounded: exact projections, the batched networks, the
constrained trainer and the depth search."""

from __future__ import annotations

import pytest
import torch
from helpers import raises_naming, randn
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from lawlib import make_generator, random_signs, sample_sphere, spectral_norm_product
from lawlib.chapters.weight_bounded import (
    ConstrainedMLP,
    project_weight_norm,
    smallest_fitting_depth,
    train_constrained,
    weight_norms,
)

# ---------------------------------------------------------------- norms and projections


def test_weight_norms_hand_values():
    w = torch.diag(torch.tensor([3.0, 4.0], dtype=torch.float64))
    assert float(weight_norms(w)) == pytest.approx(5.0, rel=1e-15)
    assert float(weight_norms(w, "spectral")) == pytest.approx(4.0, rel=1e-15)
    stack = torch.stack([w, 2 * w])
    assert torch.allclose(
        weight_norms(stack, "frobenius"), torch.tensor([5.0, 10.0], dtype=torch.float64)
    )


def test_frobenius_projection_hand_value():
    w = torch.tensor([[6.0, 8.0]], dtype=torch.float64)  # norm 10
    project_weight_norm(w, 2.0)
    assert torch.allclose(
        w, torch.tensor([[1.2, 1.6]], dtype=torch.float64), rtol=1e-15, atol=0
    )
    inside = torch.tensor([[0.3, 0.4]], dtype=torch.float64)
    before = inside.clone()
    project_weight_norm(inside, 2.0)
    assert torch.equal(inside, before)


def test_spectral_projection_clips_singular_values():
    u, _ = torch.linalg.qr(randn(3, 3, seed=1))
    v, _ = torch.linalg.qr(randn(2, 2, seed=2))
    w = u[:, :2] @ torch.diag(torch.tensor([5.0, 1.0], dtype=torch.float64)) @ v.T
    project_weight_norm(w, 2.0, "spectral")
    expected = (
        u[:, :2] @ torch.diag(torch.tensor([2.0, 1.0], dtype=torch.float64)) @ v.T
    )
    assert torch.allclose(w, expected, rtol=0, atol=1e-12)


@given(
    out=st.integers(1, 5),
    inn=st.integers(1, 5),
    G=st.integers(1, 4),
    seed=st.integers(0, 2**31),
    M=st.floats(0.1, 5),
    norm=st.sampled_from(["frobenius", "spectral"]),
)
def test_projection_is_the_nearest_point_of_the_ball(out, inn, G, seed, M, norm):
    w = 3 * randn(G, out, inn, seed=seed)
    p = project_weight_norm(w.clone(), M, norm)
    assert bool((weight_norms(p, norm) <= M * (1 + 1e-9)).all())
    again = project_weight_norm(p.clone(), M, norm)
    assert torch.allclose(again, p, rtol=0, atol=1e-10)  # idempotent
    for k in range(5):  # no point of the ball is closer (Frobenius distance)
        z = project_weight_norm(randn(G, out, inn, seed=seed + 1 + k), M, norm)
        assert bool(
            (
                (w - p).flatten(1).norm(dim=1) <= (w - z).flatten(1).norm(dim=1) + 1e-9
            ).all()
        )


def test_projection_rejects_bad_input():
    raises_naming("weight", project_weight_norm, [[1.0, 2.0]], 1.0)
    raises_naming("weight", project_weight_norm, torch.ones(3), 1.0)
    raises_naming(
        "weight", project_weight_norm, torch.ones(2, 2, dtype=torch.long), 1.0
    )
    raises_naming(
        "weight", project_weight_norm, torch.tensor([[float("nan"), 1.0]]), 1.0
    )
    raises_naming("norm", project_weight_norm, torch.ones(2, 2), 1.0, "nuclear")
    raises_naming("weight", weight_norms, torch.ones(3))
    raises_naming("norm", weight_norms, torch.ones(2, 2), "l1")


@given(M=st.sampled_from([0, -1.0, float("nan"), float("inf"), "big", None]))
def test_bad_max_norm_is_named(M):
    raises_naming("max_norm", project_weight_norm, torch.ones(2, 2), M)
    raises_naming("max_norm", ConstrainedMLP, 3, 4, 2, M)


# ----------------------------------------------------------------- the batched networks


def test_forward_matches_the_formula_and_the_extracted_networks():
    g = make_generator(0)
    model = ConstrainedMLP(
        3, [4, 5], 3, 2.0, n_networks=3, generator=g, dtype=torch.float64
    )
    x = randn(7, 3, seed=3)
    out = model(x)
    assert out.shape == (3, 7)
    for k in range(3):
        w1, w2, w3 = (w[k] for w in model.weights)
        manual = (torch.relu(torch.relu(x @ w1.T) @ w2.T) @ w3.T)[:, 0]
        assert torch.allclose(out[k], manual, rtol=1e-12, atol=1e-14)
        net = model.network(k)
        assert isinstance(net, nn.Sequential) and all(
            m.bias is None for m in net if isinstance(m, nn.Linear)
        )
        assert torch.allclose(net(x), manual, rtol=1e-12, atol=1e-14)
    per_network = torch.stack([x, 2 * x, -x])
    assert torch.allclose(
        model(per_network)[1], 2 * out[1], rtol=1e-12
    )  # positively homogeneous of degree 1


def test_depth_one_is_linear_and_norms_are_constrained():
    model = ConstrainedMLP(
        4, 7, 1, 0.5, n_networks=2, generator=make_generator(1), dtype=torch.float64
    )
    x = randn(5, 4, seed=4)
    assert torch.allclose(model(x), (x @ model.weights[0].transpose(1, 2)).squeeze(-1))
    assert model.layer_norms().shape == (2, 1)
    deep = ConstrainedMLP(
        4, 30, 4, 0.5, "spectral", n_networks=3, generator=make_generator(2)
    )
    assert bool((deep.layer_norms() <= 0.5 * (1 + 1e-5)).all())
    for k in range(3):  # Lip <= product of spectral norms <= M^D
        assert spectral_norm_product(deep.network(k)) <= 0.5**4 * (1 + 1e-4)


@given(seed=st.integers(0, 2**31), D=st.integers(1, 4))
def test_rebalancing_layers_leaves_the_function_unchanged(seed, D):
    model = ConstrainedMLP(
        3, 5, D, 10.0, generator=make_generator(seed), dtype=torch.float64
    )
    x = randn(6, 3, seed=seed + 1)
    before = model(x).detach()
    c = torch.rand(D, generator=make_generator(seed + 2), dtype=torch.float64) + 0.5
    c = c / c.prod() ** (1 / D)  # prod c_j = 1
    with torch.no_grad():
        for w, cj in zip(model.weights, c):
            w.mul_(cj)
    assert torch.allclose(model(x), before, rtol=1e-10, atol=1e-12)


def test_select_copies_networks():
    model = ConstrainedMLP(3, 4, 2, 2.0, n_networks=4, generator=make_generator(5))
    sub = model.select([3, 1])
    x = randn(5, 3, seed=1, dtype=torch.float32)
    assert torch.allclose(sub(x), model(x)[[3, 1]])
    with torch.no_grad():
        sub.weights[0].zero_()
    assert not bool((model.weights[0] == 0).all())
    raises_naming("index", model.select, [4])


def test_model_rejects_bad_arguments():
    raises_naming("d", ConstrainedMLP, 0, 4, 2, 1.0)
    raises_naming("depth", ConstrainedMLP, 3, 4, 0, 1.0)
    raises_naming(
        "width", ConstrainedMLP, 3, [4, 4], 2, 1.0
    )  # depth 2 has one hidden width
    raises_naming("width[0]", ConstrainedMLP, 3, [0], 2, 1.0)
    raises_naming("width", ConstrainedMLP, 3, "4", 2, 1.0)
    raises_naming("norm", ConstrainedMLP, 3, 4, 2, 1.0, "l1")
    raises_naming("n_networks", ConstrainedMLP, 3, 4, 2, 1.0, n_networks=0)
    raises_naming("generator", ConstrainedMLP, 3, 4, 2, 1.0, generator=0)
    model = ConstrainedMLP(3, 4, 2, 1.0, n_networks=2)
    raises_naming("x", model, torch.ones(5, 4))
    raises_naming("x", model, torch.ones(3, 5, 3))
    raises_naming("g", model.network, 2)


# ----------------------------------------------------------------------------- training


def test_training_stops_at_once_when_already_below_the_noise_level():
    model = ConstrainedMLP(3, 4, 2, 0.1, n_networks=2, generator=make_generator(0))
    before = [w.detach().clone() for w in model.weights]
    fit = train_constrained(
        model, randn(6, 3, dtype=torch.float32), torch.zeros(6), epsilon=0.5, steps=50
    )
    assert bool(fit.fitted.all()) and fit.steps.tolist() == [0, 0]
    assert all(torch.equal(a, b) for a, b in zip(before, fit.model.weights))
    assert bool((fit.mse <= fit.target).all()) and fit.target == 0.5


def test_training_fits_what_the_class_can_fit_and_respects_the_constraint():
    # n = 4 orthonormal points: the linear function w = y (norm 2) fits exactly, so
    # depth 1 with M = 2 can fit;
    # with M = 0.1 the best linear fit has error (1 - 0.05)^2 > 1 - eps: it cannot.
    x = torch.eye(4, dtype=torch.float64)
    y = torch.tensor([1.0, -1.0, -1.0, 1.0], dtype=torch.float64)
    model = ConstrainedMLP(
        4, 1, 1, 2.0, n_networks=1, generator=make_generator(3), dtype=torch.float64
    )
    small = ConstrainedMLP(
        4, 1, 1, 0.1, n_networks=1, generator=make_generator(3), dtype=torch.float64
    )
    fit = train_constrained(model, x, y, epsilon=0.9, steps=500, lr=0.05)
    miss = train_constrained(small, x, y, epsilon=0.9, steps=200, lr=0.05)
    assert bool(fit.fitted[0]) and float(fit.mse[0]) <= 0.1 + 1e-12
    assert (
        not bool(miss.fitted[0])
        and int(miss.steps[0]) == 200
        and float(miss.mse[0]) >= (1 - 0.05) ** 2 - 1e-9
    )
    for m in (model, small):
        assert bool((m.layer_norms() <= m.max_norm * (1 + 1e-9)).all())


def test_fitted_networks_keep_the_weights_they_fitted_with():
    x = torch.eye(4, dtype=torch.float64)
    y = torch.tensor([[1.0, -1.0, -1.0, 1.0]] * 2, dtype=torch.float64)
    model = ConstrainedMLP(
        4, 1, 1, 2.0, n_networks=2, generator=make_generator(4), dtype=torch.float64
    )
    with torch.no_grad():
        model.weights[0][1].mul_(0.01)  # network 1 starts near zero but can fit too
    data = torch.stack([x, x])
    fit = train_constrained(model, data, y, epsilon=0.5, steps=300, lr=0.05)
    assert bool(fit.fitted.all())
    with torch.no_grad():
        recomputed = ((model(data) - y) ** 2).mean(dim=1)
    assert torch.allclose(recomputed, fit.mse.to(recomputed.dtype)) and bool(
        (recomputed <= 0.5 + 1e-12).all()
    )


def test_padding_is_ignored():
    g = make_generator(5)
    x, y = (
        sample_sphere(10, 3, generator=g, dtype=torch.float64),
        random_signs(10, generator=g, dtype=torch.float64),
    )
    padded_x = torch.cat([x, 5 + torch.rand(6, 3, generator=g, dtype=torch.float64)])
    padded_y = torch.cat([y, torch.full((6,), 7.0, dtype=torch.float64)])
    mask = torch.cat([torch.ones(10), torch.zeros(6)]).double()
    a = ConstrainedMLP(3, 8, 2, 3.0, generator=make_generator(6), dtype=torch.float64)
    b = ConstrainedMLP(3, 8, 2, 3.0, generator=make_generator(6), dtype=torch.float64)
    fa = train_constrained(a, x, y, epsilon=0.3, steps=40)
    fb = train_constrained(b, padded_x, padded_y, epsilon=0.3, steps=40, mask=mask)
    assert int(fa.steps[0]) == int(fb.steps[0])
    assert torch.allclose(a.weights[0], b.weights[0], rtol=1e-9, atol=1e-12)


def test_training_rejects_bad_input():
    model = ConstrainedMLP(3, 4, 2, 1.0, n_networks=2)
    x, y = torch.randn(5, 3), torch.ones(5)
    raises_naming("model", train_constrained, nn.Linear(3, 1), x, y, epsilon=0.5)
    raises_naming("x", train_constrained, model, torch.randn(5, 4), y, epsilon=0.5)
    raises_naming("x", train_constrained, model, torch.randn(5), y, epsilon=0.5)
    raises_naming("y", train_constrained, model, x, torch.ones(4), epsilon=0.5)
    raises_naming(
        "y",
        train_constrained,
        model,
        x,
        torch.tensor([1.0, float("nan"), 1, 1, 1]),
        epsilon=0.5,
    )
    raises_naming("epsilon", train_constrained, model, x, y, epsilon=2.0)
    raises_naming("epsilon", train_constrained, model, x, y, epsilon=0.0)
    raises_naming("sigma", train_constrained, model, x, y, epsilon=0.5, sigma=-1)
    raises_naming("steps", train_constrained, model, x, y, epsilon=0.5, steps=-1)
    raises_naming("lr", train_constrained, model, x, y, epsilon=0.5, lr=0)
    raises_naming(
        "mask", train_constrained, model, x, y, epsilon=0.5, mask=torch.zeros(5)
    )
    raises_naming(
        "mask", train_constrained, model, x, y, epsilon=0.5, mask=torch.full((5,), 0.5)
    )
    raises_naming(
        "mask", train_constrained, model, x, y, epsilon=0.5, mask=torch.ones(4)
    )


# ------------------------------------------------------------------------- depth search


def test_depth_two_is_needed_and_found_for_the_cross():
    # Labels +1 on ±e1 and -1 on ±e2: a bias-free linear f has f(-x) = -f(x), so its
    # mean squared error is >= 1
    # and depth 1 can never fit; f(x) = |x1| - |x2| is a depth-2 network with ||W_1||_F
    # = ||W_2||_F = 2 that fits.
    x = torch.tensor([[1.0, 0], [-1, 0], [0, 1], [0, -1]], dtype=torch.float64)
    y = torch.tensor([1.0, 1, -1, -1], dtype=torch.float64)
    found = smallest_fitting_depth(
        x,
        y,
        [1, 2],
        4,
        3.0,
        epsilon=0.5,
        steps=400,
        lr=0.05,
        restarts=4,
        generator=make_generator(0),
    )
    assert found.depth == [2] and found.tried == [[1, 2]]
    assert found.mse[0] <= 0.5 and spectral_norm_product(found.networks[0]) <= 9.0 * (
        1 + 1e-9
    )
    with torch.no_grad():
        assert float(((found.networks[0](x) - y) ** 2).mean()) == pytest.approx(
            found.mse[0], rel=1e-9
        )
    none = smallest_fitting_depth(
        x, y, [1, 2], 4, 0.1, epsilon=0.5, steps=50, generator=make_generator(0)
    )
    assert none.depth == [None] and none.networks == [None] and none.tried == [[1, 2]]


def test_masked_rows_are_searched_as_their_first_points():
    # The weight-bounded chapter stacks nested data sets as rows of one sample, each
    # with a mask keeping its first n points. A row's search is the search on those n
    # points alone (same initialisation, same steps); what lies past them is ignored.
    g = make_generator(3)
    x = sample_sphere(12, 3, generator=g, dtype=torch.float64)
    y = random_signs(12, generator=g, dtype=torch.float64)
    ns = [4, 8, 12]
    mask = (torch.arange(12)[None, :] < torch.tensor(ns)[:, None]).double()
    kw = dict(width=8, max_norm=3.0, epsilon=0.5, steps=150, lr=0.05, restarts=2)

    def search(x, y, mask=None):
        init = make_generator(1)
        return smallest_fitting_depth(x, y, [1, 2, 3], mask=mask, generator=init, **kw)

    for k, n in enumerate(ns):
        junk_x = torch.cat([x[:n], torch.full((12 - n, 3), 5.0, dtype=x.dtype)])
        junk_y = torch.cat([y[:n], torch.full((12 - n,), 7.0, dtype=y.dtype)])
        alone, row = search(x[:n], y[:n]), search(junk_x[None], junk_y[None], mask[[k]])
        assert row.depth == alone.depth and row.steps == alone.steps
        assert row.tried == alone.tried
        assert row.mse[0] == pytest.approx(alone.mse[0], rel=1e-9)
    rows = search(x.expand(3, -1, -1), y.expand(3, -1), mask)
    assert rows.depth == [1, 2, 2]  # every row fitted, deeper as n grows
    for k, n in enumerate(ns):
        with torch.no_grad():
            err = float(((rows.networks[k](x[:n]) - y[:n]) ** 2).mean())
        assert err <= 0.5 and err == pytest.approx(rows.mse[k], rel=1e-9)


def test_search_rejects_bad_input():
    x, y = torch.randn(5, 3), torch.ones(5)
    raises_naming("depths", smallest_fitting_depth, x, y, [], 4, 1.0, epsilon=0.5)
    raises_naming("depths", smallest_fitting_depth, x, y, [0, 1], 4, 1.0, epsilon=0.5)
    raises_naming("width", smallest_fitting_depth, x, y, [1], 0, 1.0, epsilon=0.5)
    raises_naming(
        "restarts", smallest_fitting_depth, x, y, [1], 4, 1.0, epsilon=0.5, restarts=0
    )
    raises_naming(
        "norm", smallest_fitting_depth, x, y, [1], 4, 1.0, epsilon=0.5, norm="max"
    )
