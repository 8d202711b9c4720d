"""lawlib.chapters.frontier: the penalized batched trainer against one network at a
time, the penalty's gradient against autograd, the Lipschitz bracket, the memorizer
floor and the neuron-per-point network."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import raises_naming

from lawlib.chapters.frontier import (
    lipschitz_bracket,
    memorizer_floor,
    neuron_per_point,
    penalty_points,
    train_penalized,
)
from lawlib.data import make_generator, random_signs, sample_gaussian
from lawlib.models import two_layer_relu
from lawlib.train import memorizes


def _data(n=40, d=8, seed=0):
    g = make_generator(seed)
    return sample_gaussian(n, d, g, dtype=torch.float64), random_signs(
        n, g, dtype=torch.float64
    )


def _penalty_autograd(net, z):
    z = z.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(net(z).sum(), z, create_graph=True)
    return g.square().sum(1).mean()


def _one_at_a_time(
    x, y, k, lam, seed, *, penalty, n_penalty, noise, point_seed, steps, lr, eps
):
    """The reference: torch.optim.Adam, the penalty by double backward."""
    net = two_layer_relu(x.shape[1], k, generator=make_generator(seed)).double()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = make_generator(point_seed)
    taken = 0
    for _ in range(steps):
        with torch.no_grad():
            if bool(memorizes(net(x), y, eps)):
                break
        loss = (net(x) - y).square().mean()
        if lam > 0:
            loss = loss + lam * _penalty_autograd(
                net, penalty_points(n_penalty, x, penalty, noise, gen)
            )
        opt.zero_grad()
        loss.backward()
        opt.step()
        taken += 1
    return net, taken


@pytest.mark.parametrize("penalty", ["gaussian", "data"])
def test_batched_equals_one_at_a_time(penalty):
    x, y = _data()
    widths = [6, 20, 6, 20, 12]
    lams = [0.0, 0.0, 0.05, 0.05, 0.01]
    seeds = [1, 2, 3, 4, 5]
    kw = {
        "penalty": penalty,
        "n_penalty": 16,
        "noise": 0.1,
        "point_seed": 7,
        "steps": 300,
        "lr": 2e-2,
        "eps": 0.05,
    }
    res = train_penalized(x, y, widths, lams, seeds, progress=False, **kw)
    assert res.memorized.sum() >= 2  # the stopping rule is exercised
    assert (
        len(set(res.steps.tolist())) >= 3
    )  # networks leave the batch at different steps
    z = sample_gaussian(50, x.shape[1], make_generator(9), dtype=torch.float64)
    for j, (k, lam, s) in enumerate(zip(widths, lams, seeds)):
        net, taken = _one_at_a_time(x, y, k, lam, s, **kw)
        assert res.steps[j] == taken
        ref = res.network(j)
        for a, b in zip(ref.parameters(), net.parameters()):
            assert torch.allclose(a, b, atol=1e-8, rtol=0)
        with torch.no_grad():
            assert torch.allclose(res.predict(z)[j], net(z), atol=1e-8)
        assert bool(memorizes(net(x).detach(), y, 0.05)) == res.memorized[j]


def test_gradient_norms_and_upper_bounds():
    x, y = _data(n=30, d=6)
    res = train_penalized(x, y, [8, 16], [0.0, 0.1], [0, 1], steps=50, progress=False)
    z = sample_gaussian(40, 6, make_generator(2), dtype=torch.float64)
    norms = res.gradient_norms(z)
    from lawlib.lipschitz import gradient_norms, spectral_norm_product

    for j in range(2):
        net = res.network(j)
        assert torch.allclose(norms[j], gradient_norms(net, z), atol=1e-10)
        assert res.spectral_product()[j] == pytest.approx(
            spectral_norm_product(net), rel=1e-9
        )
        assert norms[j].max() <= res.path_norm()[j] * (1 + 1e-9)
        assert res.path_norm()[j] >= res.spectral_product()[j] * (1 - 1e-9) / math.sqrt(
            res.widths[j]
        )


def test_bracket_is_ordered_and_exact_for_a_linear_function():
    x, y = _data(n=30, d=5)
    w = torch.tensor([3.0, 4.0, 0, 0, 0], dtype=torch.float64)

    def f(v):
        return v @ w

    z = sample_gaussian(20, 5, make_generator(1), dtype=torch.float64)
    b = lipschitz_bracket(f, x, y, z, upper=5.0, ascent_starts=4, ascent_steps=3)
    assert (
        b.fresh == pytest.approx(5.0)
        and b.ascent == pytest.approx(5.0)
        and b.lower == pytest.approx(5.0)
    )
    assert b.pairwise <= 5.0 + 1e-9
    raises_naming("upper", lipschitz_bracket, f, x, y, z, upper=1.0)


def test_memorizer_floor_holds_for_interpolants():
    x, y = _data(n=60, d=40, seed=4)
    floor = memorizer_floor(x, y, eps=0.05)
    assert floor > 0
    net = neuron_per_point(x, y, tau=0.9)
    with torch.no_grad():
        assert torch.allclose(net(x), y, atol=1e-12)
    z = sample_gaussian(200, 40, make_generator(5), dtype=torch.float64)
    b = lipschitz_bracket(net, x, y, z, ascent_starts=8, ascent_steps=5)
    assert b.lower >= floor
    assert b.data == pytest.approx(float((1 / (0.1 * x.norm(dim=1))).max()), rel=1e-9)


def test_runs_with_float32_and_all_widths_sorted():
    x, y = _data()
    res = train_penalized(
        x.float(),
        y.float(),
        [30, 5, 12],
        [0.1, 0.0, 1.0],
        [0, 1, 2],
        steps=20,
        progress=False,
    )
    assert res.widths.tolist() == [30, 5, 12] and res.steps.tolist() == [20, 20, 20]
    assert res.n_parameters.tolist() == [30 * 10, 5 * 10, 12 * 10]


def test_bad_input_names_the_argument():
    x, y = _data(n=10, d=3)
    raises_naming("x", train_penalized, x[:1], y[:1], [2], [0.0], [0])
    raises_naming("y", train_penalized, x, y[:5], [2], [0.0], [0])
    raises_naming("widths[0]", train_penalized, x, y, [0], [0.0], [0])
    raises_naming("lams[0]", train_penalized, x, y, [2], [-1.0], [0])
    raises_naming("lams[0]", train_penalized, x, y, [2], [float("nan")], [0])
    raises_naming("lams", train_penalized, x, y, [2, 3], [0.0], [0, 1])
    raises_naming("seeds", train_penalized, x, y, [2], [0.0], [0, 1])
    raises_naming("penalty", train_penalized, x, y, [2], [0.0], [0], penalty="near")
    raises_naming("n_penalty", train_penalized, x, y, [2], [0.0], [0], n_penalty=0)
    raises_naming("steps", train_penalized, x, y, [2], [0.0], [0], steps=-1)
    raises_naming("eps", train_penalized, x, y, [2], [0.0], [0], eps=0.0)
    raises_naming("eps", memorizer_floor, x, y, 0.0)
    raises_naming("tau", neuron_per_point, x, y, 1.5)
    raises_naming("z", lipschitz_bracket, lambda v: v.sum(1), x, y, torch.ones(4, 2))
    raises_naming(
        "j", train_penalized(x, y, [2], [0.0], [0], steps=1, progress=False).network, 3
    )


def test_penalized_groups_follow_the_cache_and_do_not_change_the_result(monkeypatch):
    from lawlib import batched

    x, y = _data()
    args = ([6, 20, 6, 12], [0.0, 0.05, 0.05, 0.01], [1, 2, 3, 4])
    kw = {"n_penalty": 16, "point_seed": 7, "steps": 80, "eps": 0.05, "progress": False}
    one = train_penalized(x, y, *args, **kw)
    monkeypatch.setattr(batched, "_CACHE_FRACTION", 1e-9)  # a group per network
    many = train_penalized(x, y, *args, **kw)
    assert (one.steps == many.steps).all()
    torch.testing.assert_close(one.predict(x), many.predict(x), rtol=0, atol=1e-10)
