"""Device selection, float64 where a device has none, and the set-up every chapter runs
first.

``pick_device`` prefers CUDA, then Apple's MPS, then the CPU; the environment
variable ``LAWLIB_DEVICE`` overrides the choice. ``setup`` is what the first
code cell of every chapter calls: it picks the device and the scale
(:mod:`lawlib.scale`) and prints one line with both and the chapter's
estimated time on this device (:mod:`lawlib.plan`); on a CPU runtime in Colab
it also says how to switch to a GPU.

Apple's MPS has no float64. Computations that need it ask
:func:`float64_device` where to run (the CPU instead of MPS), and those for
which float32 is exact enough ask :func:`exact_dtype` for their dtype.
"""

from __future__ import annotations

import os
import sys

import torch

from ._checks import check_choice
from .scale import Scale, get_scale

__all__ = [
    "DEVICE_NAMES",
    "COLAB_GPU_HINT",
    "pick_device",
    "lacks_float64",
    "float64_device",
    "exact_dtype",
    "in_colab",
    "describe_device",
    "setup_line",
    "setup",
]

DEVICE_NAMES = ("auto", "cpu", "cuda", "mps")

COLAB_GPU_HINT = (
    "No GPU found. In Colab: Runtime > Change runtime type > Hardware accelerator: "
    "GPU, "
    "then Runtime > Run all. (The chapter runs on the CPU too, at the 'quick' scale.)"
)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_device(name: str | None = None) -> torch.device:
    """Return the device experiments run on.

    Order of preference: ``name`` if given, else the environment variable
    ``LAWLIB_DEVICE``, else ``auto``, which means CUDA if available, then MPS,
    then CPU. Asking for an accelerator that is not there raises ``ValueError``.
    Used by every chapter's set-up cell.
    """
    if name is None:
        name = os.environ.get("LAWLIB_DEVICE", "auto") or "auto"
    choice = check_choice("device", name, DEVICE_NAMES)
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device 'cuda' was requested but torch.cuda.is_available() is False"
        )
    if choice == "mps" and not _mps_available():
        raise ValueError(
            "device 'mps' was requested but the MPS backend is not available"
        )
    return torch.device(choice)


def lacks_float64(device: torch.device | str) -> bool:
    """True on a device without float64 arithmetic (Apple's MPS)."""
    return torch.device(device).type == "mps"


def float64_device(device: torch.device | str) -> torch.device:
    """Where a float64 computation meant for ``device`` runs: ``device`` itself, or the
    CPU if it has no float64.
    """
    device = torch.device(device)
    return torch.device("cpu") if lacks_float64(device) else device


def exact_dtype(
    device: torch.device | str, dtype: torch.dtype = torch.float64
) -> torch.dtype:
    """``dtype`` on ``device``, except float64 becomes float32 on a device without
    float64.

    For computations where float32 is exact enough (the caller says why).
    """
    return torch.float32 if dtype == torch.float64 and lacks_float64(device) else dtype


def in_colab() -> bool:
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def describe_device(device: torch.device) -> str:
    """A one-line human description of ``device`` (GPU name, or CPU thread count)."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type


def _chapter_block(chapter: str | None) -> str | None:
    """The scale block of a chapter given as a notebook stem ("01_memorization_model")
    or a block name.
    """
    if chapter is None:
        return None
    from .plan import CHAPTERS

    if chapter in CHAPTERS:
        return chapter
    return next((b for b, stem in CHAPTERS.items() if stem == chapter), None)


def setup_line(dev: torch.device, sc: Scale, chapter: str | None = None) -> str:
    """The set-up cell's one line (short enough for the page's output box): scale, this
    chapter's estimated time here, the device, and how to choose another scale. The
    site's footer gives the version."""
    from .plan import chapter_seconds, device_profile, format_seconds

    line = f"{sc.name} scale"
    block = _chapter_block(chapter)
    if block is not None:
        try:
            secs = chapter_seconds(block, sc, device_profile(dev))
        except Exception:  # an estimate must never stop a chapter
            secs = None
        if secs is not None:
            line += f", about {format_seconds(secs)} here"
    others = "|".join(n for n in ("quick", "colab", "full") if n != sc.name)
    where = describe_device(dev).replace(" (", ", ").rstrip(")")
    return f"{line} ({where}) · LAWLIB_SCALE={others} to change"


def setup(
    device: str | None = None,
    scale: str | None = None,
    *,
    chapter: str | None = None,
) -> tuple[torch.device, Scale]:
    """Pick the device and the scale, print one line about them, and return them.

    The scale defaults to ``quick`` on a CPU and, on a GPU, to the largest
    scale that fits it by the cost model (:func:`lawlib.scale.get_scale`);
    ``LAWLIB_SCALE`` and ``LAWLIB_DEVICE`` override. With ``chapter`` (the
    notebook's name, e.g. ``"01_memorization_model"``) the line includes the
    chapter's estimated time on this device (:mod:`lawlib.plan`). Every
    chapter's first code cell calls this.
    """
    dev = pick_device(device)
    sc = get_scale(scale, device=dev)
    print(setup_line(dev, sc, chapter))
    if dev.type == "cpu" and in_colab():
        print(COLAB_GPU_HINT)
    return dev, sc
