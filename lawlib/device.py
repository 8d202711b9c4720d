"""Device selection and the set-up every chapter runs first.

``pick_device`` prefers CUDA, then Apple's MPS, then the CPU; the environment
variable ``LAWLIB_DEVICE`` overrides the choice. ``setup`` is what the first
code cell of every chapter calls: it picks the device and the scale
(:mod:`lawlib.scale`), prints both, and on a CPU runtime in Colab says how to
switch to a GPU.
"""

from __future__ import annotations

import os
import sys

import torch

from ._checks import check_choice
from .scale import Scale, get_scale

DEVICE_NAMES = ("auto", "cpu", "cuda", "mps")

COLAB_GPU_HINT = (
    "No GPU found. In Colab: Runtime > Change runtime type > Hardware accelerator: GPU, "
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
        raise ValueError("device 'cuda' was requested but torch.cuda.is_available() is False")
    if choice == "mps" and not _mps_available():
        raise ValueError("device 'mps' was requested but the MPS backend is not available")
    return torch.device(choice)


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


def setup(device: str | None = None, scale: str | None = None, verbose: bool = True) -> tuple[torch.device, Scale]:
    """Pick the device and the scale, print both, and return them.

    The scale defaults to ``quick`` on a CPU and ``full`` on a GPU
    (:func:`lawlib.scale.get_scale`); ``LAWLIB_SCALE`` and ``LAWLIB_DEVICE``
    override. Every chapter's first code cell calls this.
    """
    dev = pick_device(device)
    sc = get_scale(scale, device=dev)
    if verbose:
        print(f"lawlib: device = {describe_device(dev)}, scale = {sc.name}")
        if dev.type == "cpu":
            if in_colab():
                print(COLAB_GPU_HINT)
            elif sc.name == "quick":
                print("Running on the CPU at the 'quick' scale; set LAWLIB_SCALE=full on a GPU for the papers' sizes.")
    return dev, sc
