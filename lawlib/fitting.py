"""Fitting lines and power laws to experimental points, with uncertainties.

* :func:`linear_fit` — ordinary least squares y ≈ a + b x with the classical
  standard errors and t-based confidence intervals.
* :func:`bootstrap_fit` — the same fit on resampled (x_i, y_i) pairs: a
  percentile confidence interval for slope and intercept that does not assume
  Gaussian residuals of equal variance.
* :func:`power_law_fit` — y ≈ C x^β, fitted as the line log y = log C + β log x,
  with the exponent's standard error and confidence intervals.

Inputs are 1-dimensional arrays or tensors of the same length (at least 3
points, since a line through 2 points has no residual to estimate an error
from), finite, and x not all equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ._checks import check_int, check_positive

__all__ = [
    "LinearFit",
    "BootstrapFit",
    "PowerLawFit",
    "linear_fit",
    "bootstrap_fit",
    "power_law_fit",
]


def _pair(x: Any, y: Any, minimum: int = 3) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for name, a in (("x", x), ("y", y)):
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        try:
            a = np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be an array of numbers, got {type(a).__name__}"
            ) from None
        if a.ndim != 1:
            raise ValueError(f"{name} must have 1 dimension(s), got shape {a.shape}")
        if a.shape[0] < minimum:
            raise ValueError(
                f"{name} must have at least {minimum} points, got {a.shape[0]}"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinite values")
        out.append(a)
    x, y = out
    if x.shape != y.shape:
        raise ValueError(
            f"x and y must have the same length, got {x.shape[0]} and {y.shape[0]}"
        )
    if np.ptp(x) == 0:
        raise ValueError(
            "x must take at least two distinct values (otherwise the slope is "
            "undefined)"
        )
    return x, y


def _level(level: float) -> float:
    level = check_positive("level", level)
    if level >= 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return level


@dataclass(frozen=True)
class LinearFit:
    """The least-squares line y ≈ intercept + slope · x and its uncertainty.

    With residuals e_i, s² = Σ e_i² / (N − 2), S_xx = Σ (x_i − x̄)²:
    slope_se = s / √S_xx and intercept_se = s √(1/N + x̄²/S_xx) (the classical
    formulas, exact under independent Gaussian errors of equal variance).
    ``r2`` = 1 − Σ e_i² / Σ (y_i − ȳ)².
    """

    slope: float
    intercept: float
    slope_se: float
    intercept_se: float
    r2: float
    n: int
    residual_std: float

    def _half_width(self, se: float, level: float) -> float:
        from scipy import stats  # lazily: scipy.stats takes ~0.5 s to import

        return float(stats.t.ppf(0.5 + _level(level) / 2, self.n - 2)) * se

    def slope_interval(self, level: float = 0.95) -> tuple[float, float]:
        """slope ± t_{N−2} quantile × slope_se: a ``level`` confidence interval."""
        h = self._half_width(self.slope_se, level)
        return (self.slope - h, self.slope + h)

    def intercept_interval(self, level: float = 0.95) -> tuple[float, float]:
        """intercept ± t_{N−2} quantile × intercept_se."""
        h = self._half_width(self.intercept_se, level)
        return (self.intercept - h, self.intercept + h)

    def predict(self, x: Any) -> np.ndarray:
        """intercept + slope · x."""
        return self.intercept + self.slope * np.asarray(x, dtype=np.float64)


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slopes and intercepts of the least-squares lines of the rows of x, y
    (shape (B, N)), vectorised.
    """
    xm, ym = x.mean(axis=-1, keepdims=True), y.mean(axis=-1, keepdims=True)
    sxx = ((x - xm) ** 2).sum(axis=-1)
    sxy = ((x - xm) * (y - ym)).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = sxy / sxx
    return slope, ym[..., 0] - slope * xm[..., 0]


def linear_fit(x: Any, y: Any) -> LinearFit:
    """Ordinary least squares y ≈ a + b x with standard errors.

    b = Σ (x_i − x̄)(y_i − ȳ) / Σ (x_i − x̄)², a = ȳ − b x̄.
    """
    x, y = _pair(x, y)
    slope, intercept = (float(v[0]) for v in _ols(x[None], y[None]))
    n = x.shape[0]
    resid = y - (intercept + slope * x)
    sse = float((resid**2).sum())
    s = (sse / (n - 2)) ** 0.5
    sxx = float(((x - x.mean()) ** 2).sum())
    sst = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - sse / sst if sst > 0 else 1.0
    return LinearFit(
        slope=slope,
        intercept=intercept,
        slope_se=s / sxx**0.5,
        intercept_se=float(s * (1.0 / n + x.mean() ** 2 / sxx) ** 0.5),
        r2=r2,
        n=n,
        residual_std=s,
    )


@dataclass(frozen=True)
class BootstrapFit:
    """Percentile bootstrap intervals for the least-squares line (``level``
    confidence)."""

    slope: float
    intercept: float
    slope_ci: tuple[float, float]
    intercept_ci: tuple[float, float]
    level: float
    slopes: np.ndarray = field(repr=False)
    intercepts: np.ndarray = field(repr=False)


def _weighted_ols(
    x: np.ndarray, y: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares lines: rows of the (B, N) weights w against one sample x,
    y (shape (N,)).

    Weight w_bi = how many times point i occurs in resample b, so this equals
    :func:`_ols` on the concatenated resample.
    """
    total = w.sum(axis=-1, keepdims=True)
    xm, ym = (
        (w * x).sum(axis=-1, keepdims=True) / total,
        (w * y).sum(axis=-1, keepdims=True) / total,
    )
    sxx = (w * (x - xm) ** 2).sum(axis=-1)
    sxy = (w * (x - xm) * (y - ym)).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(sxx > 1e-12 * (w * x**2).sum(axis=-1), sxy / sxx, np.nan)
    return slope, ym[..., 0] - slope * xm[..., 0]


def _group_labels(groups: Any, n: int) -> np.ndarray:
    if isinstance(groups, torch.Tensor):
        groups = groups.detach().cpu().numpy()
    labels = np.asarray(groups)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(
            f"groups must have 1 dimension(s) and length {n} (one label per point), "
            f"got shape {labels.shape}"
        )
    _, codes = np.unique(labels, return_inverse=True)
    if codes.max() + 1 < 2:
        raise ValueError("groups must contain at least 2 distinct groups")
    return codes.reshape(-1)


def bootstrap_fit(
    x: Any,
    y: Any,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
    groups: Any = None,
) -> BootstrapFit:
    """Case-resampling bootstrap of the least-squares line.

    Draws ``n_boot`` samples of N pairs (x_i, y_i) with replacement (NumPy
    generator seeded with ``seed``), refits each, and reports the
    ((1 − level)/2, (1 + level)/2) percentiles of the slopes and intercepts.
    Resamples whose x are all equal (no slope) are dropped.

    With ``groups`` (one label per point) it is a *cluster* bootstrap: each
    resample draws G of the G groups with replacement and keeps all points of
    each drawn group, so points that share a group (e.g. networks trained on the
    same data set) are resampled together and their dependence is kept.
    """
    x, y = _pair(x, y)
    n_boot = check_int("n_boot", n_boot, minimum=10)
    level = _level(level)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    if groups is None:
        idx = rng.integers(0, x.shape[0], size=(n_boot, x.shape[0]))
        slopes, intercepts = _ols(x[idx], y[idx])
    else:
        codes = _group_labels(groups, x.shape[0])
        n_groups = int(codes.max()) + 1
        drawn = rng.integers(0, n_groups, size=(n_boot, n_groups))
        counts = np.zeros((n_boot, n_groups))
        np.add.at(counts, (np.arange(n_boot)[:, None], drawn), 1.0)
        slopes, intercepts = _weighted_ols(x, y, counts[:, codes])
    ok = np.isfinite(slopes)
    slopes, intercepts = slopes[ok], intercepts[ok]
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    point_slope, point_intercept = (float(v[0]) for v in _ols(x[None], y[None]))
    return BootstrapFit(
        slope=point_slope,
        intercept=point_intercept,
        slope_ci=tuple(float(v) for v in np.percentile(slopes, q)),
        intercept_ci=tuple(float(v) for v in np.percentile(intercepts, q)),
        level=level,
        slopes=slopes,
        intercepts=intercepts,
    )


@dataclass(frozen=True)
class PowerLawFit:
    """y ≈ prefactor · x^exponent, from the least-squares line of (log x, log y).

    ``log_fit`` is that :class:`LinearFit` (natural logarithms): exponent =
    its slope, prefactor = exp(its intercept), exponent_se = its slope_se.
    ``bootstrap`` is a :class:`BootstrapFit` of the same line (or None).
    """

    exponent: float
    prefactor: float
    exponent_se: float
    log_fit: LinearFit
    bootstrap: BootstrapFit | None = None

    def exponent_interval(self, level: float = 0.95) -> tuple[float, float]:
        """The t-based ``level`` confidence interval of the exponent."""
        return self.log_fit.slope_interval(level)

    def predict(self, x: Any) -> np.ndarray:
        """prefactor · x^exponent."""
        return self.prefactor * np.asarray(x, dtype=np.float64) ** self.exponent


def power_law_fit(
    x: Any,
    y: Any,
    n_boot: int = 0,
    level: float = 0.95,
    seed: int = 0,
    groups: Any = None,
) -> PowerLawFit:
    """Fit y ≈ C x^β by least squares on log y = log C + β log x.

    x and y must be > 0. With ``n_boot`` > 0 also bootstraps the log-log line
    (:func:`bootstrap_fit`, by ``groups`` when given), whose ``slope_ci`` is
    then an interval for β.
    """
    x, y = _pair(x, y)
    if np.any(x <= 0):
        raise ValueError("x must be > 0 for a power-law fit")
    if np.any(y <= 0):
        raise ValueError("y must be > 0 for a power-law fit")
    n_boot = check_int("n_boot", n_boot, minimum=0)
    lx, ly = np.log(x), np.log(y)
    fit = linear_fit(lx, ly)
    boot = (
        bootstrap_fit(lx, ly, n_boot=n_boot, level=level, seed=seed, groups=groups)
        if n_boot
        else None
    )
    return PowerLawFit(
        exponent=fit.slope,
        prefactor=float(np.exp(fit.intercept)),
        exponent_se=fit.slope_se,
        log_fit=fit,
        bootstrap=boot,
    )
