"""Input validation shared by every lawlib module.

Every public function checks its input with these helpers so that bad input
fails early with a ``ValueError`` that names the offending argument, never
deep inside torch.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import torch

__all__ = [
    "check_int",
    "check_positive",
    "check_finite",
    "check_tensor",
    "check_points",
    "check_labels",
    "check_choice",
    "check_generator",
]


def check_int(name: str, value: Any, minimum: int | None = None) -> int:
    """Return ``value`` as an int; raise ``ValueError`` naming ``name`` if it is not one
    or is below ``minimum``.
    """
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_positive(name: str, value: Any, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or >= 0); raise ``ValueError`` naming
    ``name`` otherwise.
    """
    v = check_finite(name, value)
    if v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {v}")
    return v


def check_finite(name: str, value: Any) -> float:
    """Return ``value`` as a finite float; raise ``ValueError`` naming ``name``
    otherwise.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def check_tensor(
    name: str,
    x: Any,
    ndim: int | None = None,
    min_rows: int | None = None,
    min_cols: int | None = None,
) -> torch.Tensor:
    """Return ``x`` as a floating tensor after checking its rank, sizes and finiteness.

    Raises ``ValueError`` naming ``name`` for a non-tensor, a wrong number of
    dimensions, too few rows (points) or columns (dimension), or any NaN/inf.
    NumPy arrays and nested lists are accepted and converted.
    """
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(x)
        except Exception:
            raise ValueError(
                f"{name} must be a tensor or array, got {type(x).__name__}"
            ) from None
    if not (x.is_floating_point()):
        x = x.to(torch.get_default_dtype())
    if ndim is not None and x.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimension(s), got shape {tuple(x.shape)}"
        )
    if min_rows is not None and x.shape[0] < min_rows:
        raise ValueError(
            f"{name} must have at least {min_rows} rows, got shape {tuple(x.shape)}"
        )
    if min_cols is not None and (x.ndim < 2 or x.shape[1] < min_cols):
        raise ValueError(
            f"{name} must have at least {min_cols} columns, got shape {tuple(x.shape)}"
        )
    if x.numel() and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def check_points(
    name: str, x: Any, min_points: int = 2, min_dim: int = 1
) -> torch.Tensor:
    """Check an (n, d) point cloud: floating, finite, n >= ``min_points``, d >=
    ``min_dim``.
    """
    return check_tensor(name, x, ndim=2, min_rows=min_points, min_cols=min_dim)


def check_labels(name: str, y: Any, n: int) -> torch.Tensor:
    """Check a label vector of length ``n`` (shape (n,)), finite."""
    y = check_tensor(name, y, ndim=1)
    if y.shape[0] != n:
        raise ValueError(
            f"{name} must have length {n} (one label per point), got {y.shape[0]}"
        )
    return y


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` lower-cased if it is one of ``choices``; raise ``ValueError``
    naming ``name`` otherwise.
    """
    if not isinstance(value, str) or value.strip().lower() not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value.strip().lower()


def check_generator(name: str, generator: Any) -> torch.Generator | None:
    """Accept ``None`` or a ``torch.Generator``."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(
            f"{name} must be a torch.Generator or None, got {type(generator).__name__}"
        )
    return generator
