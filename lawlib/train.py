"""Training one network at a time, full batch.

The batched trainer of the universal-law chapter, which fits a whole sweep of widths and
seeds at once, lives in its own module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from ._checks import check_int, check_points, check_positive, check_tensor
from .hardware import progress as progress_bar

__all__ = [
    "Adam",
    "adam_update_",
    "TrainResult",
    "train_classifier",
    "train_regression",
    "memorizes",
    "calibrate_batch_norm",
    "train_until_memorized",
]


_ADAM_BETAS = (0.9, 0.999)  # torch.optim.Adam's defaults
_ADAM_EPS = 1e-8


def adam_update_(
    param: torch.Tensor,
    grad: torch.Tensor,
    m1: torch.Tensor,
    m2: torch.Tensor,
    t: int,
    lr: float,
    *,
    denom: torch.Tensor | None = None,
) -> None:
    """One Adam step t = 1, 2, … in place (Kingma and Ba, 2015), as
    ``torch.optim.Adam``.

    With β = (0.9, 0.999), ε = 10⁻⁸ and g = ``grad``:

        m1 ← β₁ m1 + (1 − β₁) g,    m2 ← β₂ m2 + (1 − β₂) mean(g²),
        θ ← θ − lr/(1 − β₁ᵗ) · m1 / (√m2/√(1 − β₂ᵗ) + ε),

    where mean(g²) = g² entry by entry when ``m2`` has the shape of ``grad`` (Adam), and
    the mean of g² over the axes where ``m2`` has size 1 otherwise: ``m2`` of shape
    (G, 1, 1) for weights (G, out, in) keeps one second moment per weight matrix, so the
    step follows the momentum-averaged gradient itself with a step size normalised layer
    by layer (what projected training needs: :class:`Adam` with ``per_matrix``).
    ``denom`` is an optional buffer of ``m2``'s shape for √m2 (no fresh allocation).
    """
    beta1, beta2 = _ADAM_BETAS
    c1, c2 = 1 - beta1**t, 1 - beta2**t
    m1.lerp_(grad, 1 - beta1)
    if m2.shape == grad.shape:
        m2.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    else:
        axes = tuple(i for i, (a, b) in enumerate(zip(m2.shape, grad.shape)) if a != b)
        m2.mul_(beta2).add_((grad * grad).mean(axes, keepdim=True), alpha=1 - beta2)
    denom = torch.sqrt(m2, out=denom) if denom is not None else m2.sqrt()
    denom.div_(c2**0.5).add_(_ADAM_EPS)
    param.addcdiv_(m1, denom, value=-lr / c1)


class Adam:
    """Full-batch Adam over ``params`` (their ``.grad``), each step by
    :func:`adam_update_`.

    ``per_matrix``: one second moment per weight matrix of each parameter of shape
    (…, out, in) instead of one per entry (see :func:`adam_update_`). Written out rather
    than ``torch.optim.Adam`` because constructing that one imports ``torch._dynamo``
    (seconds on a busy CPU).
    """

    def __init__(self, params, lr: float, *, per_matrix: bool = False) -> None:
        self.params = list(params)
        self.lr = check_positive("lr", lr)
        self.m1 = [torch.zeros_like(p) for p in self.params]
        self.m2 = [
            torch.zeros(*p.shape[:-2], 1, 1, dtype=p.dtype, device=p.device)
            if per_matrix
            else torch.zeros_like(p)
            for p in self.params
        ]
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        for p, m1, m2 in zip(self.params, self.m1, self.m2):
            if p.grad is not None:
                adam_update_(p, p.grad, m1, m2, self.t, self.lr)


@dataclass
class TrainResult:
    """What a training run did: the loss at each evaluation, the optimizer steps taken,
    and whether it stopped early."""

    losses: list[float] = field(default_factory=list)
    steps: int = 0
    stopped_early: bool = False


def _adam_full_batch(
    model: nn.Module,
    step: Callable[[], tuple[torch.Tensor, bool]],
    steps: int,
    lr: float,
    progress: bool | None,
) -> TrainResult:
    """Run full-batch Adam for at most ``steps`` steps; ``step()`` returns (loss, done)
    for the current weights.

    Stops, without a further step, as soon as ``done``; ``losses[-1]`` is then the loss
    of the returned weights. ``progress``: a bar with the ETA of the step budget
    (:func:`lawlib.hardware.progress`); ``None`` shows it unless ``LAWLIB_PROGRESS=0``
    (the site build and the tests).
    """
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    result = TrainResult()
    model.train()
    for _ in progress_bar(range(steps), total=steps, desc="training", enabled=progress):
        opt.zero_grad()
        loss, done = step()
        result.losses.append(loss.item())
        if done:  # the returned weights are the ones whose loss was recorded last
            result.stopped_early = True
            break
        loss.backward()
        opt.step()
        result.steps += 1
    model.eval()
    return result


def _check_data(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``x`` (n, d) with n ≥ 2 and ``y`` with one label per point, checked."""
    x = check_points("x", x, min_points=2)
    y = check_tensor("y", y, ndim=1)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have length {x.shape[0]}, got {y.shape[0]}")
    return x, y


def train_classifier(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    lr: float = 1e-2,
    progress: bool | None = None,
) -> TrainResult:
    """Full-batch Adam on the cross-entropy of ``model(x)`` against integer labels
    ``y``.

    Stops early once every training point is classified correctly and the
    loss is below 1e-3 (memorization).
    """
    x, y = _check_data(x, y)
    if not bool((y == y.round()).all()) or float(y.min()) < 0:
        raise ValueError("y must hold class indices 0, 1, ..., C - 1")
    y = y.long()
    epochs = check_int("epochs", epochs, minimum=1)
    lr = check_positive("lr", lr)

    def step() -> tuple[torch.Tensor, bool]:
        logits = model(x)
        if logits.ndim != 2 or int(y.max()) >= logits.shape[1]:
            raise ValueError(
                f"y has labels up to {int(y.max())} but the model's output has shape "
                f"{tuple(logits.shape)}"
            )
        loss = nn.functional.cross_entropy(logits, y)
        return loss, loss.item() < 1e-3 and bool((logits.argmax(1) == y).all())

    return _adam_full_batch(model, step, epochs, lr, progress)


def _square_loss_step(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    done: Callable[[torch.Tensor, torch.Tensor], bool],
) -> Callable[[], tuple[torch.Tensor, bool]]:
    """The step of a square-loss fit: (1/n) Σ (f(x_i) − y_i)² and whether ``done(out,
    loss)`` says to stop."""

    def step() -> tuple[torch.Tensor, bool]:
        out = model(x)
        if out.shape != y.shape:
            raise ValueError(
                f"model must map x to shape {tuple(y.shape)} (one value per point), "
                f"got {tuple(out.shape)}"
            )
        loss = ((out - y) ** 2).mean()
        return loss, done(out.detach(), loss)

    return step


def train_regression(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    lr: float = 1e-3,
    tol: float = 1e-4,
    progress: bool | None = None,
) -> TrainResult:
    """Full-batch Adam on the square loss (1/n) Σ (f(x_i) − y_i)², stopping once it is ≤
    ``tol``.

    Used to train networks that memorize.
    """
    x, y = _check_data(x, y)
    steps = check_int("steps", steps, minimum=1)
    lr = check_positive("lr", lr)
    tol = check_positive("tol", tol)
    step = _square_loss_step(model, x, y, lambda out, loss: loss.item() <= tol)
    return _adam_full_batch(model, step, steps, lr, progress)


def memorizes(predictions: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """Memorization in the sense of Bubeck–Li–Nagaraj: sign(f(x_i)) = y_i for every i
    AND (1/n) Σ_i (f(x_i) − y_i)² ≤ eps. ``predictions`` is (..., n); returns a bool
    tensor of shape (...)."""
    predictions = check_tensor("predictions", predictions)
    if predictions.shape[-1] != y.shape[-1]:
        raise ValueError(
            f"y must have length {predictions.shape[-1]}, got {y.shape[-1]}"
        )
    eps = check_positive("eps", eps)
    loss = ((predictions - y) ** 2).mean(-1)
    return (torch.sign(predictions) == y).all(-1) & (loss <= eps)


def calibrate_batch_norm(model: nn.Module, x: torch.Tensor) -> nn.Module:
    """Set every ``BatchNorm1d`` of ``model`` to the statistics of the full batch ``x``
    and switch to eval mode.

    Running mean μ ← the batch mean, running variance v ← the *biased* batch
    variance (what train mode divides by), so the eval-mode network equals the
    train-mode network on ``x`` exactly — a network trained full batch is, after
    this, one fixed function.
    """
    x = check_tensor("x", x, ndim=2)
    stats: dict[nn.BatchNorm1d, tuple[torch.Tensor, torch.Tensor]] = {}

    def hook(
        module: nn.Module, inputs: tuple[torch.Tensor, ...], _output: torch.Tensor
    ) -> None:
        t = inputs[0]
        stats[module] = (t.mean(0), t.var(0, unbiased=False))

    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    handles = [m.register_forward_hook(hook) for m in bns]
    model.train()
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    for m in bns:
        m.running_mean.copy_(stats[m][0])
        m.running_var.copy_(stats[m][1])
    return model.eval()


def train_until_memorized(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    lr: float = 1e-2,
    eps: float = 0.02,
    progress: bool | None = None,
) -> TrainResult:
    """Full-batch Adam on the square loss until the network memorizes ±1 labels
    (:func:`memorizes`).

    The one-at-a-time version of :func:`lawlib.train_batched`: it stops, without a
    further step, once sign f(x_i) = y_i for all i and (1/n) Σ (f(x_i) − y_i)² ≤
    ``eps``; a network with batch normalization is then calibrated to the full batch
    (:func:`calibrate_batch_norm`).
    """
    x, y = _check_data(x, y)
    steps = check_int("steps", steps, minimum=0)
    lr = check_positive("lr", lr)
    eps = check_positive("eps", eps)
    step = _square_loss_step(
        model, x, y, lambda out, loss: bool(memorizes(out, y, eps))
    )
    result = _adam_full_batch(model, step, steps, lr, progress)
    if any(isinstance(m, nn.BatchNorm1d) for m in model.modules()):
        calibrate_batch_norm(model, x)
    return result
