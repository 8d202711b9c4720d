"""Scale presets: the one place every experiment takes its sizes from.

Three scales exist. ``quick`` keeps each chapter under about a minute on two
CPU cores (it is what CI runs); ``colab`` keeps each chapter under about ten
minutes on a free Colab GPU (a T4: 16 GB, about 8 TFLOP/s in float32) with
sizes that show each effect better than ``quick``; ``full`` reproduces the
papers' sizes on one large GPU. The scale is chosen by the argument to
:func:`get_scale`, else the environment variable ``LAWLIB_SCALE``, else by the
device: ``quick`` on a CPU; on a GPU the largest scale whose every chapter fits
the device's memory and time budget by the cost model of :mod:`lawlib.plan`
(measured throughput, not merely "CUDA is there").

Sizes are grouped by chapter. A chapter reads its block with
``scale["memorization"].n_max`` (attribute access on a read-only namespace).
To add an experiment, add its sizes to :data:`PRESETS` under every scale and
its cost to :data:`lawlib.plan.COSTS` (keyed by the same block name). A block
without a ``colab`` entry runs its ``quick`` sizes at the colab scale.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from types import MappingProxyType, SimpleNamespace
from typing import Any

import torch

from ._checks import check_choice

__all__ = [
    "SCALE_NAMES",
    "PRESETS",
    "ScaleError",
    "Scale",
    "get_scale",
]

SCALE_NAMES = ("quick", "colab", "full")

#: Sizes of every experiment, per chapter, per scale.
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    # the adversarial-examples chapter: a small network on scikit-learn's digits,
    # attacked by PGD.
    "intro": {
        "quick": dict(
            hidden=256,
            epochs=400,
            lr=1e-2,
            random_epochs=400,
            attack_steps=40,
            bisection_steps=12,
            n_attack=300,
            n_knn=40,
            n_radii=33,
            widget_radii=16,
        ),
        "full": dict(
            hidden=1024,
            epochs=1500,
            lr=1e-2,
            random_epochs=1500,
            attack_steps=200,
            bisection_steps=16,
            n_attack=449,
            n_knn=300,
            n_radii=65,
            widget_radii=31,
        ),
    },
    # the memorization-model chapter: the memorization model and high-dimensional
    # geometry.
    "memorization": {
        "quick": dict(
            n=2000, dims=(2, 5, 10, 50, 200, 1000), n_pairs=20000, n_trials=2000
        ),
        "full": dict(
            n=20000,
            dims=(2, 5, 10, 50, 200, 1000, 5000),
            n_pairs=200000,
            n_trials=20000,
        ),
    },
    # the Kirszbraun chapter: minimum pairwise distances against the cap bound; the
    # McShane extension.
    "kirszbraun": {
        "quick": dict(
            ns=(100, 300, 1000, 3000, 10000),
            dims=(20, 50, 100, 500),
            gamma=0.01,
            cap_dims=(10, 50, 200),
            n_cap_pairs=100000,
            n_hist=1500,
            dims_hist=(10, 100, 1000),
            n_mc=1000,
            d_mc=100,
            ns_lip=(100, 300, 1000, 3000),
            n_fresh=1000,
            n_starts=32,
            ascent_steps=20,
        ),
        "full": dict(
            ns=(100, 1000, 10000, 100000),
            dims=(20, 50, 100, 500, 2000),
            gamma=0.01,
            cap_dims=(10, 50, 200, 500),
            n_cap_pairs=1000000,
            n_hist=5000,
            dims_hist=(10, 100, 1000, 5000),
            n_mc=10000,
            d_mc=500,
            ns_lip=(100, 1000, 10000, 30000),
            n_fresh=1000,
            n_starts=256,
            ascent_steps=100,
        ),
    },
    # Baum's chapter: Baum's network at n = 1000, d = 50; same-width networks trained by
    # Adam; Lip against n.
    "baum": {
        "quick": dict(
            n=1000,
            d=50,
            n_fresh=1000,
            ascent_starts=200,
            ascent_steps=30,
            train_steps=3000,
            train_lr=1e-2,
            train_tol=1e-3,
            sweep_d=20,
            sweep_ns=(100, 200, 400, 800),
            sweep_seeds=1,
            width_n=200,
            width_d=10,
        ),
        "full": dict(
            n=1000,
            d=50,
            n_fresh=1000,
            ascent_starts=1000,
            ascent_steps=200,
            train_steps=20000,
            train_lr=1e-2,
            train_tol=1e-3,
            sweep_d=50,
            sweep_ns=(250, 500, 1000, 2000, 4000, 8000),
            sweep_seeds=3,
            width_n=1000,
            width_d=50,
        ),
    },
    # the RBF chapter: RBF and neuron-per-point memorizers, their Lipschitz constants as
    # n grows, the table.
    "rbf": {
        "quick": dict(
            d=200,
            ns=(100, 300, 1000, 3000),
            n_table=500,
            d_table=100,
            train_steps=3000,
            train_lr=1e-2,
            n_fresh=1000,
            n_starts=32,
            ascent_steps=20,
        ),
        "full": dict(
            d=1000,
            ns=(100, 1000, 10000, 30000),
            n_table=5000,
            d_table=500,
            train_steps=20000,
            train_lr=3e-3,
            n_fresh=1000,
            n_starts=256,
            ascent_steps=100,
        ),
    },
    # the universal-law chapter: isoperimetry, the Bubeck-Li-Nagaraj experiments
    # (1: many (n, d, k); 2: n fixed, d swept with k = n and k = 10n/d), the projected
    # RBF, Rademacher complexities. exp1_cells lists (n, d) pairs.
    "universal": {
        "quick": dict(
            iso_dims=(5, 50, 500),
            iso_samples=20000,
            iso_min_count=30,
            exp1_cells=(
                (100, 50),
                (100, 100),
                (200, 50),
                (200, 100),
                (200, 200),
                (300, 50),
                (300, 150),
                (300, 300),
            ),
            exp1_widths=(10, 20, 40, 80, 160, 300),
            exp1_seeds=(0, 1),
            exp1_eps=0.02,
            exp2_n=1000,
            exp2_dims=(20, 40, 80, 160, 320),
            exp2_seeds=(0, 1),
            exp2_eps=0.1,
            exp2_steps=300,
            ablation_n=500,
            ablation_d=100,
            ablation_steps=1000,
            steps=150,
            lr=1e-2,
            n_fresh=1000,
            ascent_networks=3,
            ascent_starts=32,
            ascent_steps=30,
            rbf_n=300,
            rbf_d=300,
            rad_n=200,
            rad_dims=(10, 100, 1000),
            rad_functions=50,
            rad_draws=2000,
        ),
        "full": dict(
            iso_dims=(5, 50, 500, 5000),
            iso_samples=100000,
            iso_min_count=30,
            exp1_cells=tuple(
                (n, d)
                for n in (100, 200, 500, 1000, 2000)
                for d in (50, 100, 200, 500, 1000, 2000)
                if d <= n
            ),
            exp1_widths=(10, 20, 50, 100, 200, 500, 1000, 2000),
            exp1_seeds=(0, 1, 2),
            exp1_eps=0.02,
            exp2_n=10000,
            exp2_dims=(10, 20, 50, 100, 200, 500, 1000, 2000, 5000),
            exp2_seeds=(0, 1),
            exp2_eps=0.1,
            exp2_steps=10000,
            ablation_n=1000,
            ablation_d=640,
            ablation_steps=5000,
            steps=10000,
            lr=1e-3,
            n_fresh=1000,
            ascent_networks=10,
            ascent_starts=256,
            ascent_steps=200,
            rbf_n=2000,
            rbf_d=1000,
            rad_n=1000,
            rad_dims=(10, 100, 1000, 10000),
            rad_functions=200,
            rad_draws=10000,
        ),
    },
    # the weight-bounded chapter: weight-bounded deep networks; smallest fitting depth
    # against n; Rademacher estimates.
    "weight_bounded": {
        "quick": dict(
            d=8,
            width=16,
            max_norm=3.0,
            epsilon=0.5,
            ns=(16, 32, 64, 128, 256, 512),
            max_depth=8,
            steps=300,
            lr=0.02,
            restarts=2,
            seeds=(0, 1, 2),
            control_depths=(1, 2, 3),
            n_fresh=1000,
            ascent_starts=32,
            ascent_steps=20,
            rad_n=64,
            rad_depths=(1, 2, 3, 4, 5),
            rad_depth=3,
            rad_draws=8,
            rad_steps=150,
        ),
        "full": dict(
            d=8,
            width=32,
            max_norm=3.0,
            epsilon=0.5,
            ns=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096),
            max_depth=16,
            steps=1500,
            lr=0.01,
            restarts=4,
            seeds=(0, 1, 2),
            control_depths=(1, 2, 3, 4, 5, 6),
            n_fresh=1000,
            ascent_starts=256,
            ascent_steps=100,
            rad_n=256,
            rad_depths=(1, 2, 3, 4, 5, 6, 7, 8),
            rad_depth=3,
            rad_draws=32,
            rad_steps=500,
        ),
    },
    # the ImageNet chapter: the ImageNet back-of-the-envelope; intrinsic-dimension
    # estimates (synthetic, digits, MNIST).
    "envelope": {
        "quick": dict(
            capacity_scales=(1, 2, 4, 8, 16),
            synthetic_n=1500,
            synthetic_dims=(2, 5, 10, 20),
            ambient=64,
            k=10,
            ks=(3, 5, 10, 20),
            mnist_n=5000,
            knn_chunk=512,
        ),
        "full": dict(
            capacity_scales=(1, 2, 4, 8, 16),
            synthetic_n=10000,
            synthetic_dims=(2, 5, 10, 20),
            ambient=64,
            k=10,
            ks=(3, 5, 10, 20, 50),
            mnist_n=60000,
            knn_chunk=2048,
        ),
    },
    # the last chapter (beyond the law): the n^{1/d} mechanism; the max-gradient
    # experiment for other architectures; other norms.
    "beyond": {
        "quick": dict(
            dims=(1, 2, 3),
            ns=(100, 300, 1000, 3000),
            seeds=12,
            cell_seeds=5,
            fit_mse=0.5,
            arch_n=100,
            arch_d=64,
            arch_targets=(0.125, 0.5, 2.0),
            arch_seeds=(0,),
            arch_steps=2000,
            arch_lr=2e-3,
            depth=3,
            kernel_size=3,
            n_fresh=1000,
            norm_dims=(16, 64, 256),
            norm_n=100,
            rbf_n=200,
            rbf_d=64,
            rbf_k=3,
            radius_fractions=(1.0, 0.3, 0.1, 0.03, 0.01),
            n_mc=200000,
            n_grad_check=20000,
            n_flip=100,
            flip_steps=20,
            flip_bisection=10,
        ),
        "full": dict(
            dims=(1, 2, 3, 4),
            ns=(100, 300, 1000, 3000, 10000, 30000),
            seeds=40,
            cell_seeds=20,
            fit_mse=0.5,
            arch_n=1000,
            arch_d=256,
            arch_targets=(0.0625, 0.125, 0.25, 0.5, 1.0, 2.0),
            arch_seeds=(0, 1, 2),
            arch_steps=10000,
            arch_lr=1e-3,
            depth=3,
            kernel_size=3,
            n_fresh=1000,
            norm_dims=(16, 64, 256, 1024, 4096),
            norm_n=1000,
            rbf_n=2000,
            rbf_d=256,
            rbf_k=3,
            radius_fractions=(1.0, 0.3, 0.1, 0.03, 0.01, 0.001),
            n_mc=2000000,
            n_grad_check=200000,
            n_flip=1000,
            flip_steps=40,
            flip_bisection=12,
        ),
    },
    # Chapter "Can training reach the law?": gradient-penalized training across widths
    # from 4n/d to 2n, a log grid of penalties, Lipschitz brackets at points never
    # trained on. Widths are multiples of n/d and n.
    "frontier": {
        "quick": dict(
            n=200,
            d=50,
            width_factors=((4, 0), (10, 0), (0, 0.5), (0, 1), (0, 2)),
            lams=(0.0, 0.003, 0.01, 0.03, 0.1),
            lams_data=(0.0, 0.001, 0.003, 0.01, 0.03),
            seeds=(0, 1),
            steps=2000,
            lr=1e-2,
            eps=0.02,
            n_penalty=64,
            noise=0.1,
            n_fresh=1000,
            ascent_starts=8,
            ascent_steps=10,
            homemade_n=40,
            homemade_d=8,
            homemade_steps=60,
        ),
        # full: about 2.2e5 neurons in one model; its n x K work matrices take about 4.4
        # GB each in float32.
        "full": dict(
            n=5000,
            d=100,
            width_factors=((4, 0), (10, 0), (0, 0.5), (0, 1), (0, 2)),
            lams=(0.0, 0.001, 0.003, 0.01, 0.03, 0.1),
            lams_data=(0.0, 0.0003, 0.001, 0.003, 0.01, 0.03),
            seeds=(0, 1),
            steps=5000,
            lr=1e-2,
            eps=0.02,
            n_penalty=256,
            noise=0.1,
            n_fresh=1000,
            ascent_starts=32,
            ascent_steps=30,
            homemade_n=40,
            homemade_d=8,
            homemade_steps=60,
        ),
    },
}


#: The ``colab`` sizes, one entry per block (merged into PRESETS[block]["colab"] below).
#: Every chapter stays under about 10 minutes on a T4 by lawlib.plan's cost model
#: (``python -m lawlib.plan --scale colab --device t4``).
_COLAB: dict[str, dict[str, Any]] = {
    "intro": dict(
        hidden=512,
        epochs=1000,
        lr=1e-2,
        random_epochs=1000,
        attack_steps=100,
        bisection_steps=14,
        n_attack=449,
        n_knn=150,
        n_radii=49,
        widget_radii=21,
    ),
    "memorization": dict(
        n=10000, dims=(2, 5, 10, 50, 200, 1000, 2000), n_pairs=100000, n_trials=10000
    ),
    "kirszbraun": dict(
        ns=(100, 300, 1000, 3000, 10000, 30000),
        dims=(20, 50, 100, 500, 1000),
        gamma=0.01,
        cap_dims=(10, 50, 200, 500),
        n_cap_pairs=1000000,
        n_hist=3000,
        dims_hist=(10, 100, 1000, 2000),
        n_mc=5000,
        d_mc=200,
        ns_lip=(100, 1000, 10000, 30000),
        n_fresh=1000,
        n_starts=128,
        ascent_steps=50,
    ),
    "baum": dict(
        n=1000,
        d=50,
        n_fresh=1000,
        ascent_starts=500,
        ascent_steps=100,
        train_steps=10000,
        train_lr=1e-2,
        train_tol=1e-3,
        sweep_d=50,
        sweep_ns=(250, 500, 1000, 2000, 4000),
        sweep_seeds=2,
        width_n=500,
        width_d=25,
    ),
    "rbf": dict(
        d=500,
        ns=(100, 300, 1000, 3000, 10000),
        n_table=2000,
        d_table=200,
        train_steps=10000,
        train_lr=5e-3,
        n_fresh=1000,
        n_starts=128,
        ascent_steps=50,
    ),
    "universal": dict(
        iso_dims=(5, 50, 500, 2000),
        iso_samples=50000,
        iso_min_count=30,
        exp1_cells=tuple(
            (n, d) for n in (100, 200, 500, 1000) for d in (50, 100, 200, 500) if d <= n
        ),
        exp1_widths=(10, 20, 50, 100, 200, 500, 1000),
        exp1_seeds=(0, 1, 2),
        exp1_eps=0.02,
        exp2_n=2000,
        exp2_dims=(10, 20, 50, 100, 200, 500),
        exp2_seeds=(0, 1),
        exp2_eps=0.1,
        exp2_steps=2000,
        ablation_n=1000,
        ablation_d=320,
        ablation_steps=3000,
        steps=2000,
        lr=5e-3,
        n_fresh=1000,
        ascent_networks=5,
        ascent_starts=128,
        ascent_steps=100,
        rbf_n=1000,
        rbf_d=500,
        rad_n=500,
        rad_dims=(10, 100, 1000, 5000),
        rad_functions=100,
        rad_draws=5000,
    ),
    "weight_bounded": dict(
        d=8,
        width=32,
        max_norm=3.0,
        epsilon=0.5,
        ns=(16, 32, 64, 128, 256, 512, 1024, 2048),
        max_depth=12,
        steps=800,
        lr=0.01,
        restarts=3,
        seeds=(0, 1, 2),
        control_depths=(1, 2, 3, 4, 5),
        n_fresh=1000,
        ascent_starts=128,
        ascent_steps=50,
        rad_n=128,
        rad_depths=(1, 2, 3, 4, 5, 6),
        rad_depth=3,
        rad_draws=16,
        rad_steps=300,
    ),
    "envelope": dict(
        capacity_scales=(1, 2, 4, 8, 16),
        synthetic_n=5000,
        synthetic_dims=(2, 5, 10, 20),
        ambient=64,
        k=10,
        ks=(3, 5, 10, 20, 50),
        mnist_n=20000,
        knn_chunk=2048,
    ),
    "frontier": dict(
        n=1000,
        d=100,
        width_factors=((4, 0), (10, 0), (0, 0.5), (0, 1), (0, 2)),
        lams=(0.0, 0.001, 0.003, 0.01, 0.03, 0.1),
        lams_data=(0.0, 0.0003, 0.001, 0.003, 0.01, 0.03),
        seeds=(0, 1),
        steps=3000,
        lr=1e-2,
        eps=0.02,
        n_penalty=128,
        noise=0.1,
        n_fresh=1000,
        ascent_starts=16,
        ascent_steps=20,
        homemade_n=40,
        homemade_d=8,
        homemade_steps=60,
    ),
    "beyond": dict(
        dims=(1, 2, 3, 4),
        ns=(100, 300, 1000, 3000, 10000),
        seeds=20,
        cell_seeds=10,
        fit_mse=0.5,
        arch_n=300,
        arch_d=144,
        arch_targets=(0.0625, 0.125, 0.25, 0.5, 1.0, 2.0),
        arch_seeds=(0, 1),
        arch_steps=5000,
        arch_lr=2e-3,
        depth=3,
        kernel_size=3,
        n_fresh=1000,
        norm_dims=(16, 64, 256, 1024),
        norm_n=300,
        rbf_n=1000,
        rbf_d=128,
        rbf_k=3,
        radius_fractions=(1.0, 0.3, 0.1, 0.03, 0.01, 0.001),
        n_mc=1000000,
        n_grad_check=100000,
        n_flip=300,
        flip_steps=30,
        flip_bisection=12,
    ),
}
for _block, _sizes in _COLAB.items():
    if _block in PRESETS:
        PRESETS[_block].setdefault("colab", _sizes)


class ScaleError(ValueError):
    """Raised for an unknown scale name or chapter key."""


@dataclass(frozen=True)
class Scale:
    """A named scale (``quick``, ``colab`` or ``full``) and the sizes it gives each
    chapter.
    """

    name: str
    presets: MappingProxyType = field(repr=False)

    def __getitem__(self, chapter: str) -> SimpleNamespace:
        """The sizes for ``chapter`` as a namespace, e.g.
        ``scale["memorization"].n``."""
        if chapter not in self.presets:
            raise ScaleError(
                f"chapter must be one of {', '.join(sorted(self.presets))}; got "
                f"{chapter!r}"
            )
        return SimpleNamespace(**self.presets[chapter])

    @property
    def is_full(self) -> bool:
        return self.name == "full"


def get_scale(
    name: str | None = None, device: torch.device | str | None = None
) -> Scale:
    """Return the :class:`Scale` to run at.

    ``name`` if given, else ``$LAWLIB_SCALE``, else ``quick`` on a CPU and, on
    a GPU (cuda or mps), the largest scale whose every chapter fits the
    device's memory and a time budget by :func:`lawlib.plan.choose_scale`
    (``full``: 2 h a chapter, ``colab``: 10 min). An unknown name raises
    ``ValueError`` naming ``scale``.
    """
    if name is None:
        name = os.environ.get("LAWLIB_SCALE") or None
    if name is None:
        try:
            dev = torch.device(device) if device is not None else torch.device("cpu")
        except (RuntimeError, TypeError):
            raise ValueError(
                f"device must be a torch.device or a device name, got {device!r}"
            ) from None
        name = "quick"
        if dev.type in ("cuda", "mps"):
            from .plan import (
                choose_scale,
                device_profile,
            )  # the cost model imports this module

            name = choose_scale(device_profile(dev))
    choice = check_choice("scale", name, SCALE_NAMES)
    fallback = {"colab": "quick"}
    return Scale(
        choice,
        MappingProxyType(
            {
                ch: dict(p[choice] if choice in p else p[fallback[choice]])
                for ch, p in PRESETS.items()
            }
        ),
    )
