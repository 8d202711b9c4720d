"""Shared helpers of the unit tests (imported as ``from helpers import ...``)."""

from __future__ import annotations

import pytest
import torch

from lawlib import make_generator


def raises_naming(name: str, fn, *args, **kwargs) -> None:
    """``fn(*args, **kwargs)`` raises ValueError (never a torch-internal error) whose
    message names ``name``.
    """
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    assert name in str(info.value), (
        f"message {str(info.value)!r} does not name {name!r}"
    )


def randn(
    *shape: int, seed: int = 0, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """A standard normal tensor of ``shape`` from a generator seeded with ``seed``."""
    return torch.randn(*shape, generator=make_generator(seed), dtype=dtype)
