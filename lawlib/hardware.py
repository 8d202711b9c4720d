"""What this device can do: a short matrix-multiply probe, and progress bars.

``matmul_throughput`` measures the sustained floating-point rate of a square
matrix product on a device (a fraction of a second). The cost model
(:mod:`lawlib.scale`) and the benchmarks divide a workload's flop count by it
to get the flop-bound limit on its time. ``progress`` wraps ``tqdm.auto`` so
that every long loop shows a bar with an ETA in Jupyter, Colab and a terminal,
and stays silent when ``LAWLIB_PROGRESS=0`` (the site build and the tests set it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

import torch
from tqdm.auto import tqdm

from ._checks import check_int

__all__ = ["matmul_throughput", "progress", "progress_enabled", "synchronize"]

T = TypeVar("T")

_CACHE: dict[tuple[str, str, int], float] = {}


def synchronize(device: torch.device) -> None:
    """Wait for every queued kernel on ``device`` (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


_PROBE_SECONDS = 0.25  # how long the probe runs


def matmul_throughput(
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    size: int = 1024,
    cached: bool = True,
) -> float:
    """Sustained rate of ``size``×``size`` matrix products on ``device``, in flop/s.

    One product costs ``2·size³`` flop. After one warm-up product the probe
    repeats products for about a quarter of a second and returns the best of three
    timed rounds (``flop / time``). Results are cached per device, dtype and size;
    ``cached=False`` measures again (the share of a busy machine changes).
    """
    size = check_int("size", size, minimum=16)
    device = torch.device(device)
    key = (str(device), str(dtype), size)
    if cached and key in _CACHE:
        return _CACHE[key]
    gen = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(size, size, generator=gen, dtype=torch.float32).to(
        device=device, dtype=dtype
    )
    b = torch.randn(size, size, generator=gen, dtype=torch.float32).to(
        device=device, dtype=dtype
    )
    out = torch.empty_like(a)
    torch.mm(a, b, out=out)
    synchronize(device)
    flop = 2.0 * size**3
    t0 = time.perf_counter()
    torch.mm(a, b, out=out)
    synchronize(device)
    one = max(time.perf_counter() - t0, 1e-9)
    reps = max(1, int(_PROBE_SECONDS / 3 / one))
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=out)
        synchronize(device)
        best = max(best, reps * flop / max(time.perf_counter() - t0, 1e-12))
    _CACHE[key] = best
    return best


def progress_enabled() -> bool:
    """False when the environment variable ``LAWLIB_PROGRESS`` is ``0``
    (site build, tests).
    """
    return os.environ.get("LAWLIB_PROGRESS", "1") not in ("0", "false", "False", "")


def progress(
    iterable: Iterable[T],
    total: int | None = None,
    desc: str | None = None,
    enabled: bool | None = None,
) -> Iterator[T]:
    """``iterable`` with a ``tqdm.auto`` progress bar (count, rate and ETA).

    ``enabled=None`` follows :func:`progress_enabled`; ``enabled=False`` turns
    the bar off for a loop too short to need one.
    """
    on = progress_enabled() if enabled is None else bool(enabled)
    return iter(tqdm(iterable, total=total, desc=desc, disable=not on, leave=False))
