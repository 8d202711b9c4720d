"""Shared helpers of the unit tests (imported as ``from helpers import ...``)."""

from __future__ import annotations

import pytest


def raises_naming(name: str, fn, *args, **kwargs) -> None:
    """``fn(*args, **kwargs)`` raises ValueError (never a torch-internal error) whose message names ``name``."""
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    assert name in str(info.value), (
        f"message {str(info.value)!r} does not name {name!r}"
    )
