"""Data: random points on the sphere and in Gaussian space, the memorization
task of the memorization-model chapter, and real data that ships offline.

All samplers take an explicit ``torch.Generator`` so that every figure of the
book is reproducible; pass ``seed`` instead for convenience.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ._checks import (
    check_generator,
    check_int,
    check_labels,
    check_positive,
    check_tensor,
)

__all__ = [
    "make_generator",
    "sample_sphere",
    "sample_gaussian",
    "random_signs",
    "MemorizationTask",
    "linear_signal",
    "memorization_task",
    "mean_squared_error",
    "partially_memorizes",
    "DigitsData",
    "load_digits",
]


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed`` (all chapters)."""
    seed = check_int("seed", seed, minimum=0)
    if seed >= 2**64:
        raise ValueError(f"seed must be < 2**64, got {seed}")
    g = torch.Generator(device=torch.device(device))
    g.manual_seed(seed)
    return g


def _gen(
    generator: torch.Generator | None, seed: int | None, device: torch.device | str
) -> torch.Generator:
    check_generator("generator", generator)
    if generator is not None:
        return generator
    return make_generator(0 if seed is None else seed, device)


def sample_sphere(
    n: int,
    d: int,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``n`` points i.i.d. uniform on the unit sphere S^{d-1} in R^d, shape (n, d).

    x = g / ‖g‖ with g ~ N(0, I_d), which is uniform on the sphere by rotation
    invariance.
    """
    n = check_int("n", n, minimum=1)
    d = check_int("d", d, minimum=2)
    g = _gen(generator, seed, device)
    x = torch.randn(n, d, generator=g, device=g.device, dtype=dtype)
    return x / x.norm(dim=1, keepdim=True)


def sample_gaussian(
    n: int,
    d: int,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``n`` points i.i.d. from N(0, I_d / d), shape (n, d), so that E‖x‖² = 1.

    The data model of Bubeck–Li–Nagaraj's experiments and of
    the memorization-model chapter's comparison with the sphere.
    """
    n = check_int("n", n, minimum=1)
    d = check_int("d", d, minimum=2)
    g = _gen(generator, seed, device)
    return torch.randn(n, d, generator=g, device=g.device, dtype=dtype) / d**0.5


def random_signs(
    n: int,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``n`` i.i.d. uniform signs in {−1, +1} (Rademacher labels)."""
    n = check_int("n", n, minimum=1)
    g = _gen(generator, seed, device)
    return torch.randint(0, 2, (n,), generator=g, device=g.device).to(dtype) * 2 - 1


@dataclass(frozen=True)
class MemorizationTask:
    """The memorization model of the memorization-model chapter: labels y_i = g(x_i) +
    z_i.

    Attributes: ``x`` (n, d) inputs, ``signal`` g(x_i), ``noise`` z_i with
    variance ``sigma``², ``y`` = signal + noise, and ``sigma``.
    """

    x: torch.Tensor
    signal: torch.Tensor
    noise: torch.Tensor
    y: torch.Tensor
    sigma: float

    @property
    def n(self) -> int:
        return self.x.shape[0]

    @property
    def d(self) -> int:
        return self.x.shape[1]


def linear_signal(x: torch.Tensor) -> torch.Tensor:
    """The default signal g(x) = ⟨e₁, x⟩ = x₁, a 1-Lipschitz function.

    Any smooth signal would do: the law of robustness is about the noise.
    A 1-Lipschitz signal makes the point plainly, since g itself is a
    perfectly robust predictor that leaves about nσ² of squared error.
    """
    return x[:, 0].clone()


def memorization_task(
    n: int,
    d: int,
    sigma: float,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    device: torch.device | str = "cpu",
) -> MemorizationTask:
    """Sample the memorization task: x_i uniform on S^{d-1}, y_i = g(x_i) + z_i with
    z_i ~ N(0, σ²) i.i.d. and the signal g = :func:`linear_signal`.
    """
    sigma = check_positive("sigma", sigma, allow_zero=True)
    n = check_int("n", n, minimum=2)
    d = check_int("d", d, minimum=2)
    g = _gen(generator, seed, device)
    x = sample_sphere(n, d, generator=g)
    z = sigma * torch.randn(n, generator=g, device=g.device)
    s = linear_signal(x)
    return MemorizationTask(x=x, signal=s, noise=z, y=s + z, sigma=sigma)


def mean_squared_error(predictions: torch.Tensor, y: torch.Tensor) -> float:
    """(1/n) Σ (f(x_i) − y_i)² for predictions f(x_i) and labels y_i."""
    y = check_tensor("y", y, ndim=1, min_rows=1)
    predictions = check_labels("predictions", predictions, y.shape[0])
    return float(((predictions - y) ** 2).mean())


def partially_memorizes(
    predictions: torch.Tensor, y: torch.Tensor, sigma: float, epsilon: float
) -> bool:
    """The partial-memorization test of the memorization-model chapter: (1/n) Σ
    (f(x_i) − y_i)² ≤ σ² − ε.

    ``epsilon`` is an absolute gap in (0, σ²]. A predictor that knows the
    signal exactly scores ≈ σ² and fails the test: passing it means fitting
    the noise.
    """
    sigma = check_positive("sigma", sigma)
    epsilon = check_positive("epsilon", epsilon)
    if epsilon > sigma**2:
        raise ValueError(
            f"epsilon must be at most sigma**2 = {sigma**2}, got {epsilon}"
        )
    return mean_squared_error(predictions, y) <= sigma**2 - epsilon


@dataclass(frozen=True)
class DigitsData:
    """scikit-learn's handwritten digits (1797 images of 8×8 pixels), split and scaled
    to [0, 1].
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    images_shape: tuple[int, int] = (8, 8)


def load_digits(
    test_fraction: float = 0.25,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
) -> DigitsData:
    """Load scikit-learn's digits (shipped inside its wheel: no download), pixels scaled
    to [0, 1].

    Returns a random train/test split of fraction ``test_fraction``.

    """
    test_fraction = check_positive("test_fraction", test_fraction)
    if test_fraction >= 1:
        raise ValueError(f"test_fraction must be < 1, got {test_fraction}")
    from sklearn.datasets import load_digits as _load

    bunch = _load()
    x = torch.tensor(bunch.data, dtype=torch.float32) / 16.0
    y = torch.tensor(bunch.target, dtype=torch.long)
    g = _gen(generator, seed, "cpu")
    perm = torch.randperm(x.shape[0], generator=g)
    n_test = int(round(test_fraction * x.shape[0]))
    if not 1 <= n_test < x.shape[0]:
        raise ValueError(
            f"test_fraction = {test_fraction} leaves an empty train or test set of "
            f"{x.shape[0]} digits"
        )
    te, tr = perm[:n_test], perm[n_test:]
    return DigitsData(x[tr], y[tr], x[te], y[te])
