"""Tests of lawlib.batched: the batched sweep gives exactly the networks trained one at
a time."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import raises_naming

from lawlib import (
    calibrate_batch_norm,
    count_parameters,
    gaussian_sign_data,
    gradient_norms,
    make_generator,
    memorizes,
    train_batched,
    train_until_memorized,
    two_layer_relu,
)


def train_alone(x, y, k, seed, *, batch_norm, steps, lr, eps):
    """The reference: one network trained alone by torch.optim.Adam with the same
    stopping rule."""
    net = two_layer_relu(
        x.shape[1], k, batch_norm=batch_norm, generator=make_generator(seed)
    ).to(x.dtype)
    result = train_until_memorized(net, x, y, steps, lr=lr, eps=eps)
    assert not net.training
    return net, result.steps


@pytest.mark.parametrize("batch_norm", [True, False])
def test_batched_equals_one_at_a_time(batch_norm):
    x, y = gaussian_sign_data(40, 8, seed=3, dtype=torch.float64)
    widths, seeds = [2, 5, 30, 60, 17], [11, 12, 13, 14, 15]
    steps, lr, eps = 300, 1e-2, 0.05
    res = train_batched(
        x,
        y,
        widths,
        seeds,
        batch_norm=batch_norm,
        steps=steps,
        lr=lr,
        eps=eps,
        progress=False,
    )
    z = torch.randn(64, 8, generator=make_generator(0), dtype=torch.float64)
    assert (
        res.memorized.any() and not res.memorized.all()
    )  # both kinds of network occur
    for j, (k, s) in enumerate(zip(widths, seeds)):
        ref, taken = train_alone(
            x, y, k, s, batch_norm=batch_norm, steps=steps, lr=lr, eps=eps
        )
        assert res.steps[j] == taken
        net = res.network(j)
        assert count_parameters(net) == res.n_parameters[j] == count_parameters(ref)
        torch.testing.assert_close(net(z), ref(z), rtol=0, atol=1e-10)
        torch.testing.assert_close(net(x), ref(x), rtol=0, atol=1e-10)
        assert res.memorized[j] == bool(memorizes(net(x).detach(), y, eps))
        assert res.final_loss[j] == pytest.approx(
            float(((net(x).detach() - y) ** 2).mean()), abs=1e-12
        )


def test_several_data_sets_and_seeds():
    data = [gaussian_sign_data(30, 6, seed=s, dtype=torch.float64) for s in (0, 1)]
    x, y = torch.stack([a for a, _ in data]), torch.stack([b for _, b in data])
    widths, seeds, which = [20, 20, 4, 40], [1, 2, 3, 4], [1, 0, 1, 0]
    res = train_batched(
        x, y, widths, seeds, datasets=which, steps=150, eps=0.05, progress=False
    )
    for j in range(4):
        ref, taken = train_alone(
            x[which[j]],
            y[which[j]],
            widths[j],
            seeds[j],
            batch_norm=True,
            steps=150,
            lr=1e-2,
            eps=0.05,
        )
        assert res.steps[j] == taken
        torch.testing.assert_close(res.network(j)(x[0]), ref(x[0]), rtol=0, atol=1e-10)


def test_memorized_networks_memorize_in_eval_mode_float32():
    x, y = gaussian_sign_data(50, 20, seed=0)
    res = train_batched(
        x, y, [50, 100], [0, 1], steps=2000, lr=1e-2, eps=0.02, progress=False
    )
    assert res.memorized.all()
    assert (res.steps < 2000).all() and (res.final_loss <= 0.02).all()
    for j in range(2):
        out = res.network(j)(x)
        assert bool(memorizes(out.detach(), y, 0.02))


def test_predict_and_gradient_norms_are_exact():
    x, y = gaussian_sign_data(30, 5, seed=1, dtype=torch.float64)
    res = train_batched(x, y, [3, 9, 25], [0, 1, 2], steps=40, progress=False)
    z = torch.randn(50, 5, generator=make_generator(7), dtype=torch.float64)
    pred, grads = res.predict(z), res.gradient_norms(z)
    assert pred.shape == grads.shape == (3, 50)
    for j in range(3):
        net = res.network(j)
        torch.testing.assert_close(pred[j], net(z).detach(), rtol=0, atol=1e-12)
        torch.testing.assert_close(grads[j], gradient_norms(net, z), rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.max_gradient(z), grads.max(1).values.numpy())


def test_gradient_of_a_hand_built_network():
    # no batch norm, steps=0: f(z) = Σ a_ℓ ReLU(⟨w_ℓ, z⟩ + b_ℓ) at initialisation; at z
    # = 0 the active set is {b_ℓ > 0}
    x, y = gaussian_sign_data(10, 3, seed=0, dtype=torch.float64)
    res = train_batched(x, y, [7], [5], batch_norm=False, steps=0, progress=False)
    net = res.network(0)
    w, b, a = net[0].weight, net[0].bias, net[2].weight[0]
    expected = torch.linalg.vector_norm(((b > 0) * a) @ w).detach()
    assert float(
        res.gradient_norms(torch.zeros(1, 3, dtype=torch.float64))[0, 0]
    ) == pytest.approx(float(expected))
    assert res.steps[0] == 0


def test_calibrate_batch_norm_makes_eval_equal_train():
    x = torch.randn(25, 4, generator=make_generator(0))
    net = two_layer_relu(4, 6, batch_norm=True, generator=make_generator(1))
    net.train()
    train_out = net(x).detach()
    calibrate_batch_norm(net, x)
    assert not net.training
    torch.testing.assert_close(net(x).detach(), train_out, rtol=0, atol=1e-6)


def test_memorizes_by_hand():
    y = torch.tensor([1.0, -1.0, 1.0])
    assert bool(memorizes(torch.tensor([0.9, -1.1, 1.0]), y, 0.02))
    assert not bool(
        memorizes(torch.tensor([0.9, -1.1, 1.0]), y, 0.005)
    )  # loss 0.02/3 > 0.005
    assert not bool(memorizes(torch.tensor([0.9, 0.01, 1.0]), y, 10.0))  # a wrong sign
    assert memorizes(torch.stack([y, -y]), y, 0.1).tolist() == [True, False]


def test_gaussian_sign_data():
    x, y = gaussian_sign_data(4000, 50, seed=2)
    assert x.shape == (4000, 50) and set(y.tolist()) == {-1.0, 1.0}
    assert float((x**2).sum(1).mean()) == pytest.approx(
        1.0, abs=0.01
    )  # E‖x‖² = 1 for N(0, I_d/d)
    x2, y2 = gaussian_sign_data(4000, 50, seed=2)
    assert torch.equal(x, x2) and torch.equal(y, y2)


# ---------------------------------------------------------------------------- bad input

X, Y = gaussian_sign_data(10, 3, seed=0)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("x", dict(x=torch.zeros(10))),
        ("x", dict(x=torch.full((10, 3), float("nan")))),
        ("y", dict(y=torch.ones(9))),
        ("widths[1]", dict(widths=[3, 0])),
        ("widths", dict(widths=[], seeds=[])),
        ("seeds", dict(seeds=[1])),
        ("seeds[0]", dict(seeds=[-1, 2])),
        ("datasets", dict(datasets=[0, 1])),
        ("steps", dict(steps=-1)),
        ("lr", dict(lr=0.0)),
        ("eps", dict(eps=float("inf"))),
    ],
)
def test_train_batched_bad_input(name, kwargs):
    args = dict(x=X, y=Y, widths=[3, 4], seeds=[0, 1], progress=False)
    args.update(kwargs)
    raises_naming(name, train_batched, **args)


# ------------------------------------------------ folded batch norm, cache-sized groups


@pytest.mark.parametrize("batch_norm", [True, False])
def test_folded_gradient_equals_autograd_of_the_unfolded_network(batch_norm):
    # One step of the written-out pass (batch norm folded into the first layer through
    # the covariance)
    # against autograd through Linear -> BatchNorm1d (train mode) -> ReLU -> Linear, in
    # float64.
    from lawlib.batched import _Data, _Group

    x, y = gaussian_sign_data(50, 7, seed=4, dtype=torch.float64)
    widths = [3, 11]
    nets = [
        two_layer_relu(
            7, k, batch_norm=batch_norm, generator=make_generator(20 + i)
        ).double()
        for i, k in enumerate(widths)
    ]
    for net in (
        nets
    ):  # move γ, β away from (1, 0) so that every term of the gradient is exercised
        if batch_norm:
            with torch.no_grad():
                net[1].weight.uniform_(0.5, 1.5, generator=make_generator(1))
                net[1].bias.uniform_(-0.3, 0.3, generator=make_generator(2))
    rows = []
    for net in nets:
        bn_w = (
            net[1].weight.detach()
            if batch_norm
            else torch.ones(net[0].out_features, dtype=torch.float64)
        )
        bn_b = (
            net[1].bias.detach()
            if batch_norm
            else torch.zeros(net[0].out_features, dtype=torch.float64)
        )
        rows.append(
            torch.cat(
                [
                    net[0].weight.detach(),
                    net[0].bias.detach()[:, None],
                    bn_w[:, None],
                    bn_b[:, None],
                    net[-2].weight.detach()[0][:, None],
                ],
                1,
            )
        )
    group = _Group([0, 1], widths, torch.cat(rows), _Data(x, y, batch_norm), batch_norm)
    f = group.forward(0.02)
    losses = f["loss"].clone()
    grad = group.backward(f)
    s = 0
    for net, k in zip(nets, widths):
        net.train()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        assert float(losses[nets.index(net)]) == pytest.approx(
            float(loss.detach()), rel=1e-12
        )
        g = grad[s : s + k]
        torch.testing.assert_close(g[:, :7], net[0].weight.grad, rtol=1e-9, atol=1e-13)
        torch.testing.assert_close(
            g[:, 10], net[-2].weight.grad[0], rtol=1e-9, atol=1e-13
        )
        if batch_norm:
            torch.testing.assert_close(
                g[:, 8], net[1].weight.grad, rtol=1e-9, atol=1e-13
            )
            torch.testing.assert_close(g[:, 9], net[1].bias.grad, rtol=1e-9, atol=1e-13)
            assert float(net[0].bias.grad.abs().max()) < 1e-14 and bool(
                (g[:, 7] == 0).all()
            )  # b has no effect
        else:
            torch.testing.assert_close(g[:, 7], net[0].bias.grad, rtol=1e-9, atol=1e-13)
        s += k


def test_group_size_follows_the_cache_and_does_not_change_the_result(monkeypatch):
    from lawlib import batched

    assert batched._cache_bytes() > 0
    assert batched._group_capacity(2000, torch.float32) == max(
        1, int(batched._CACHE_FRACTION * batched._cache_bytes()) // (2000 * 4)
    )
    assert batched._group_capacity(2000, torch.float64) <= batched._group_capacity(
        2000, torch.float32
    )
    x, y = gaussian_sign_data(30, 6, seed=5, dtype=torch.float64)
    widths, seeds = [4, 25, 9, 40], [1, 2, 3, 4]
    one = train_batched(x, y, widths, seeds, steps=120, eps=0.05, progress=False)
    monkeypatch.setattr(
        batched, "_CACHE_FRACTION", 1e-9
    )  # every network in a group of its own
    many = train_batched(x, y, widths, seeds, steps=120, eps=0.05, progress=False)
    assert (one.steps == many.steps).all() and (one.memorized == many.memorized).all()
    for j in range(4):
        torch.testing.assert_close(
            one.network(j)(x), many.network(j)(x), rtol=0, atol=1e-10
        )
