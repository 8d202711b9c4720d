"""lawlib: the helper package of *The Law of Robustness* lecture notes.

The shared core: each module holds one idea that two or more chapters use,
and its names are re-exported here (``lawlib.sample_sphere``). The code that
one chapter alone uses lives in that chapter's module, in
:mod:`lawlib.chapters` (``from lawlib.chapters import universal_law``).

Core modules: :mod:`lawlib.attacks`, :mod:`lawlib.batched`, :mod:`lawlib.baum`,
:mod:`lawlib.bounds`, :mod:`lawlib.constructions`, :mod:`lawlib.data`,
:mod:`lawlib.device`, :mod:`lawlib.fitting`, :mod:`lawlib.geometry`,
:mod:`lawlib.hardware`, :mod:`lawlib.lipschitz`, :mod:`lawlib.models`,
:mod:`lawlib.plan`, :mod:`lawlib.plotting`, :mod:`lawlib.scale`,
:mod:`lawlib.train`.
Chapter modules: :mod:`lawlib.chapters.universal_law`,
:mod:`lawlib.chapters.frontier`, :mod:`lawlib.chapters.weight_bounded`,
:mod:`lawlib.chapters.imagenet_envelope`, :mod:`lawlib.chapters.beyond`.
"""

from .attacks import (
    AttackResult,
    AttackSummary,
    MinimalPerturbation,
    NearestNeighbourClassifier,
    certified_radius,
    fgsm_attack,
    margin,
    minimal_perturbation,
    nearest_other_class_distance,
    pgd_attack,
    success_at_radii,
    success_curve,
    summarize_attack,
)
from .batched import (
    BatchedResult,
    calibrate_batch_norm,
    concat_records,
    gaussian_sign_data,
    memorizes,
    train_batched,
)
from .baum import BaumNetwork, baum_network
from .bounds import (
    bubeck_sellke_bound,
    bubeck_sellke_sample_size,
    cap_probability_bound,
    deep_network_law_bound,
    deep_network_log_lipschitz,
    deep_rademacher_bound,
    deep_rademacher_bound_for_model,
    fit_rademacher_lower_bound,
    forced_depth,
    forced_norm_product,
    frobenius_bounds_from_spectral,
    massart_rademacher_bound,
    noise_floor_pass_probability_bound,
    universal_law_scale,
)
from .constructions import (
    CapOverlapWarning,
    McShaneExtension,
    NeuronPerPoint,
    ProjectedRBF,
    RBFMemorizer,
    WhitneyExtension,
)
from .data import (
    DigitsData,
    MemorizationTask,
    linear_signal,
    load_digits,
    make_generator,
    mean_squared_error,
    memorization_task,
    partially_memorizes,
    random_signs,
    sample_gaussian,
    sample_sphere,
)
from .device import (
    COLAB_GPU_HINT,
    describe_device,
    exact_dtype,
    float64_device,
    in_colab,
    lacks_float64,
    pick_device,
    setup,
)
from .fitting import (
    BootstrapFit,
    LinearFit,
    PowerLawFit,
    bootstrap_fit,
    linear_fit,
    power_law_fit,
)
from .geometry import (
    PairExtreme,
    inner_product_density,
    max_inner_product,
    min_pairwise_distance,
    sample_pair_inner_products,
)
from .hardware import matmul_throughput, progress
from .lipschitz import (
    LipschitzEstimate,
    gradient_ascent_lipschitz,
    gradient_norms,
    max_gradient_norm,
    max_pairwise_slope,
    spectral_norm_product,
)
from .models import count_parameters, mlp, two_layer_relu
from .scale import PRESETS, Scale, get_scale
from .train import (
    TrainResult,
    train_classifier,
    train_regression,
    train_until_memorized,
)

__version__ = "0.4.0"

# The figure helpers need matplotlib (about 0.5 s to import): lawlib.plotting is
# loaded on first use.
_LAZY = {
    name: "plotting"
    for name in (
        "PALETTE",
        "adversarial_examples_figure",
        "attack_widget_frame",
        "figure",
        "interact",
        "label",
        "use_style",
    )
}
_SUBMODULES = ("plan", "chapters")  # imported on first use: lawlib.plan("colab", "t4")


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


__all__ = [
    "AttackResult",
    "AttackSummary",
    "BatchedResult",
    "BaumNetwork",
    "BootstrapFit",
    "COLAB_GPU_HINT",
    "CapOverlapWarning",
    "DigitsData",
    "LinearFit",
    "LipschitzEstimate",
    "McShaneExtension",
    "MemorizationTask",
    "MinimalPerturbation",
    "NearestNeighbourClassifier",
    "NeuronPerPoint",
    "PALETTE",
    "PRESETS",
    "PairExtreme",
    "PowerLawFit",
    "ProjectedRBF",
    "RBFMemorizer",
    "Scale",
    "TrainResult",
    "WhitneyExtension",
    "__version__",
    "adversarial_examples_figure",
    "attack_widget_frame",
    "baum_network",
    "bootstrap_fit",
    "bubeck_sellke_bound",
    "bubeck_sellke_sample_size",
    "calibrate_batch_norm",
    "cap_probability_bound",
    "certified_radius",
    "concat_records",
    "count_parameters",
    "deep_network_law_bound",
    "deep_network_log_lipschitz",
    "deep_rademacher_bound",
    "deep_rademacher_bound_for_model",
    "describe_device",
    "exact_dtype",
    "fgsm_attack",
    "figure",
    "fit_rademacher_lower_bound",
    "float64_device",
    "forced_depth",
    "forced_norm_product",
    "frobenius_bounds_from_spectral",
    "gaussian_sign_data",
    "get_scale",
    "gradient_ascent_lipschitz",
    "gradient_norms",
    "in_colab",
    "inner_product_density",
    "label",
    "lacks_float64",
    "linear_fit",
    "linear_signal",
    "load_digits",
    "make_generator",
    "margin",
    "massart_rademacher_bound",
    "matmul_throughput",
    "max_gradient_norm",
    "max_inner_product",
    "max_pairwise_slope",
    "mean_squared_error",
    "memorization_task",
    "memorizes",
    "min_pairwise_distance",
    "minimal_perturbation",
    "mlp",
    "nearest_other_class_distance",
    "noise_floor_pass_probability_bound",
    "partially_memorizes",
    "pgd_attack",
    "pick_device",
    "power_law_fit",
    "progress",
    "random_signs",
    "sample_gaussian",
    "sample_pair_inner_products",
    "sample_sphere",
    "setup",
    "spectral_norm_product",
    "success_at_radii",
    "success_curve",
    "summarize_attack",
    "train_batched",
    "train_classifier",
    "train_regression",
    "train_until_memorized",
    "two_layer_relu",
    "universal_law_scale",
    "use_style",
]
