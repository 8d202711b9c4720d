"""Tests of lawlib.models and lawlib.train: exact parameter counts, seeding, shapes,
memorization."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from helpers import raises_naming
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from lawlib import (
    TrainResult,
    count_parameters,
    make_generator,
    memorization_task,
    mlp,
    train_classifier,
    train_regression,
    two_layer_relu,
)


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    return all(
        torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True)
    )


# -----------------------------------------------------------------------------
# two_layer_relu


@given(d=st.integers(1, 50), k=st.integers(1, 200), bias=st.booleans())
def test_two_layer_relu_parameter_count(d, k, bias):
    net = two_layer_relu(d, k, output_bias=bias)
    assert count_parameters(net) == k * (d + 1) + k + (1 if bias else 0)


@given(
    d=st.integers(1, 8),
    k=st.integers(1, 20),
    m=st.integers(1, 10),
    seed=st.integers(0, 2**31),
)
def test_two_layer_relu_is_the_formula(d, k, m, seed):
    net = two_layer_relu(d, k, generator=make_generator(seed))
    x = torch.randn(m, d, generator=make_generator(seed + 1))
    out = net(x)
    assert out.shape == (m,)
    w, b = net[0].weight.detach(), net[0].bias.detach()
    a = net[2].weight.detach()[0]
    expected = torch.relu(x @ w.T + b) @ a
    assert torch.allclose(out.detach(), expected, rtol=1e-5, atol=1e-6)


def test_two_layer_relu_seeding():
    a = two_layer_relu(5, 30, generator=make_generator(1))
    b = two_layer_relu(5, 30, generator=make_generator(1))
    c = two_layer_relu(5, 30, generator=make_generator(2))
    assert same_weights(a, b) and not same_weights(a, c)
    # PyTorch's default law: uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)].
    assert float(a[0].weight.detach().abs().max()) <= 1 / 5**0.5
    assert float(a[2].weight.detach().abs().max()) <= 1 / 30**0.5


def test_two_layer_relu_output_bias_shifts_output():
    net = two_layer_relu(3, 4, output_bias=True, generator=make_generator(0))
    x = torch.randn(6, 3)
    before = net(x).detach()
    with torch.no_grad():
        net[2].bias.add_(1.5)
    assert torch.allclose(net(x).detach(), before + 1.5)


# ----------------------------------------------------------------------------- mlp


@given(
    d=st.integers(1, 20),
    widths=st.lists(st.integers(1, 30), min_size=1, max_size=4),
    out=st.integers(1, 5),
)
def test_mlp_parameter_count_and_shapes(d, widths, out):
    net = mlp(d, widths, out)
    sizes = [d, *widths, out]
    expected = sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(sizes) - 1))
    assert count_parameters(net) == expected
    y = net(torch.randn(7, d))
    assert y.shape == ((7,) if out == 1 else (7, out))


def test_mlp_seeding():
    a = mlp(4, [8, 8], 3, generator=make_generator(0))
    b = mlp(4, [8, 8], 3, generator=make_generator(0))
    c = mlp(4, [8, 8], 3, generator=make_generator(1))
    assert same_weights(a, b) and not same_weights(a, c)
    assert len([m for m in a if isinstance(m, nn.ReLU)]) == 2


def test_count_parameters_counts_frozen_weights_and_refuses_non_modules():
    net = two_layer_relu(3, 4)
    net[0].bias.requires_grad_(False)
    assert count_parameters(net) == 4 * 3 + 4 + 4
    raises_naming("model", count_parameters, "net")
    raises_naming("model", count_parameters, torch.zeros(3))


@given(
    bad=st.one_of(st.integers(max_value=0), st.floats(), st.text(max_size=2), st.none())
)
def test_models_reject_bad_sizes(bad):
    raises_naming("d", two_layer_relu, bad, 3)
    raises_naming("k", two_layer_relu, 3, bad)
    raises_naming("d", mlp, bad, [3])
    raises_naming("out", mlp, 3, [3], bad)
    raises_naming("widths[1]", mlp, 3, [3, bad])


def test_models_reject_bad_generator_and_widths():
    raises_naming("generator", two_layer_relu, 3, 4, generator=0)
    raises_naming("generator", mlp, 3, [4], generator="seed")
    raises_naming("widths", mlp, 3, [])


@pytest.mark.parametrize("widths", [5, None])
def test_mlp_rejects_widths_that_are_not_a_sequence(widths):
    raises_naming("widths", mlp, 3, widths)


# ----------------------------------------------------------------------------- training


def test_train_regression_memorizes_a_tiny_data_set():
    task = memorization_task(10, 5, 0.5, seed=0)
    net = two_layer_relu(5, 200, generator=make_generator(0))
    result = train_regression(net, task.x, task.y, steps=3000, lr=1e-2, tol=1e-4)
    assert isinstance(result, TrainResult)
    # stopped early: one loss per optimizer step, plus the final evaluation that met the
    # tolerance
    assert result.stopped_early and result.steps + 1 == len(result.losses) < 3000
    assert result.losses[-1] <= 1e-4
    assert not net.training  # returned in eval mode
    with torch.no_grad():
        mse = float(((net(task.x) - task.y) ** 2).mean())
    assert (
        abs(mse - result.losses[-1]) <= 1e-6
    )  # the reported final loss is the returned weights' loss


def test_train_regression_reports_the_true_loss_for_column_outputs():
    # A model with output (n, 1) (nn.Linear(d, 1) without Flatten) must be either
    # refused (ValueError)
    # or trained on the real square loss (1/n) Σ (f(x_i) − y_i)², never on a broadcast
    # (n, n) matrix.
    torch.manual_seed(0)
    x, y = torch.randn(8, 3), torch.randn(8)
    net = nn.Linear(3, 1)
    with torch.no_grad():
        true_mse = float(((net(x)[:, 0] - y) ** 2).mean())
    try:
        result = train_regression(net, x, y, steps=1, lr=1e-12)
    except ValueError as err:
        assert "model" in str(err) or "shape" in str(err)
    else:
        assert result.losses[0] == pytest.approx(true_mse, rel=1e-5)


def test_train_regression_steps_limit_and_no_early_stop():
    task = memorization_task(10, 5, 0.5, seed=0)
    net = two_layer_relu(5, 4, generator=make_generator(0))
    result = train_regression(net, task.x, task.y, steps=5, lr=1e-4, tol=1e-12)
    assert result.steps == 5 and len(result.losses) == 5 and not result.stopped_early


def test_train_classifier_reaches_full_accuracy_on_separable_data():
    g = make_generator(0)
    x = torch.cat(
        [torch.randn(10, 2, generator=g) + 3, torch.randn(10, 2, generator=g) - 3]
    )
    y = torch.cat([torch.zeros(10), torch.ones(10)]).long()
    net = mlp(2, [32], out=2, generator=make_generator(0))
    result = train_classifier(net, x, y, epochs=2000, lr=1e-2)
    assert result.stopped_early and result.losses[-1] < 1e-3
    assert not net.training
    with torch.no_grad():
        assert bool((net(x).argmax(1) == y).all())


def test_training_emits_no_warnings():
    # Notebooks show every warning in their output; the training loop itself must not
    # cause any. Torch
    # warns once per process, so this runs in a fresh interpreter.
    code = (
        "import warnings; warnings.simplefilter('error');"
        "import torch, lawlib;"
        "t = lawlib.memorization_task(10, 3, 0.5, seed=0);"
        "lawlib.train_regression(lawlib.two_layer_relu(3, 8), t.x, t.y, steps=2);"
        "lawlib.train_classifier(lawlib.mlp(3, [4], 2), t.x, (t.y > 0).long(), "
        "epochs=2)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize("trainer", [train_regression, train_classifier])
def test_trainers_reject_bad_input(trainer):
    net = mlp(3, [4], 2 if trainer is train_classifier else 1)
    x, y = torch.randn(6, 3), torch.zeros(6)
    raises_naming("x", trainer, net, torch.randn(6), y, 1)
    raises_naming("x", trainer, net, torch.randn(6, 3, 1), y, 1)
    raises_naming("x", trainer, net, torch.randn(1, 3), torch.zeros(1), 1)
    bad = x.clone()
    bad[2, 1] = float("nan")
    raises_naming("x", trainer, net, bad, y, 1)
    raises_naming("y", trainer, net, x, torch.zeros(5), 1)
    raises_naming("y", trainer, net, x, torch.zeros(6, 1), 1)
    raises_naming("lr", trainer, net, x, y, 1, lr=0.0)
    raises_naming("lr", trainer, net, x, y, 1, lr=-1.0)
    raises_naming("lr", trainer, net, x, y, 1, lr=float("nan"))
    if trainer is train_regression:
        raises_naming("steps", trainer, net, x, y, 0)
        raises_naming("steps", trainer, net, x, y, 2.5)
        raises_naming("tol", trainer, net, x, y, 1, tol=0.0)
    else:
        raises_naming("epochs", trainer, net, x, y, 0)
        raises_naming("epochs", trainer, net, x, y, "10")


@pytest.mark.parametrize("labels", [[0, 1, -1, 0], [0, 1, 2, 7]])
def test_train_classifier_rejects_labels_out_of_range(labels):
    # Labels must be class indices 0..C-1 for a model with C outputs; a label outside
    # that range
    # crashes inside cross_entropy (IndexError/RuntimeError) unless checked.
    net = mlp(3, [4], 3)
    raises_naming(
        "y", train_classifier, net, torch.randn(4, 3), torch.tensor(labels), 1
    )


def test_train_classifier_rejects_fractional_labels():
    # 0.5 would silently become class 0 through .long().
    net = mlp(3, [4], 2)
    raises_naming(
        "y", train_classifier, net, torch.randn(3, 3), torch.tensor([0.0, 0.5, 1.0]), 1
    )


def test_training_shows_a_progress_bar_unless_turned_off(capsys, monkeypatch):
    """The training loop reports progress with an ETA (tqdm, on stderr);
    LAWLIB_PROGRESS=0 or progress=False silences it, progress=True forces it."""
    import lawlib

    x, y = torch.randn(20, 3), torch.sign(torch.randn(20))

    def run(progress):
        net = lawlib.two_layer_relu(3, 8, generator=torch.Generator().manual_seed(0))
        lawlib.train_regression(
            net, x, y, steps=5, lr=1e-3, tol=1e-9, progress=progress
        )
        return capsys.readouterr().err

    monkeypatch.setenv("LAWLIB_PROGRESS", "0")
    assert run(None) == "" and run(False) == ""
    assert "training" in run(True)
    monkeypatch.setenv("LAWLIB_PROGRESS", "1")
    assert "training" in run(None) and run(False) == ""


# ------------------------------------------------------------- the one Adam and init


def test_adam_update_equals_torch_adam():
    from lawlib.train import adam_update_

    g = make_generator(0)
    p = torch.randn(5, 3, generator=g, dtype=torch.float64)
    ref = p.clone().requires_grad_()
    opt = torch.optim.Adam([ref], lr=0.1)
    m1, m2 = torch.zeros_like(p), torch.zeros_like(p)
    for t in range(1, 8):
        grad = torch.randn(5, 3, generator=g, dtype=torch.float64)
        adam_update_(p, grad, m1, m2, t, 0.1)
        ref.grad = grad.clone()
        opt.step()
    torch.testing.assert_close(p, ref.detach(), rtol=0, atol=1e-14)


def test_adam_per_matrix_first_step_is_the_normalised_gradient():
    # At t = 1 the bias corrections cancel: θ ← θ − lr·g/(√mean(g²) + ε) per matrix.
    from lawlib.train import Adam

    g = make_generator(1)
    w = torch.randn(3, 4, 2, generator=g, dtype=torch.float64, requires_grad=True)
    before = w.detach().clone()
    grad = torch.randn(3, 4, 2, generator=g, dtype=torch.float64)
    opt = Adam([w], 0.05, per_matrix=True)
    w.grad = grad
    opt.step()
    rms = grad.square().mean((1, 2), keepdim=True).sqrt()
    torch.testing.assert_close(w.detach(), before - 0.05 * grad / (rms + 1e-8))


def test_uniform_weights_is_pytorchs_law():
    from lawlib.models import uniform_weights

    w = uniform_weights((400, 25), 25, make_generator(2))
    assert float(w.abs().max()) <= 1 / 5 and float(w.abs().max()) > 0.19
    net = two_layer_relu(25, 400, generator=make_generator(2))
    torch.testing.assert_close(net[0].weight, w, rtol=0, atol=0)
