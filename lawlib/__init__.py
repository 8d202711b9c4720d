"""lawlib: the helper package of *The Law of Robustness* lecture notes.

Flat modules, each named for the idea it holds:

* :mod:`lawlib.device` — device choice and the chapters' set-up.
* :mod:`lawlib.scale` — the ``quick``/``full`` scale presets.
* :mod:`lawlib.data` — sphere and Gaussian samples, the memorization task, digits.
* :mod:`lawlib.geometry` — extremes over pairs (distances, inner products) in cache-sized tiles.
* :mod:`lawlib.lipschitz` — lower and upper bounds on Lipschitz constants.
* :mod:`lawlib.attacks` — adversarial examples: PGD/FGSM, smallest flipping perturbations.
* :mod:`lawlib.constructions`, :mod:`lawlib.baum` — memorizers with known Lipschitz constants.
* :mod:`lawlib.bounds` — the formulas of the theorems.
* :mod:`lawlib.models`, :mod:`lawlib.train` — networks and how they are fitted.
* :mod:`lawlib.batched` — a sweep of 2-layer networks trained at once.
* :mod:`lawlib.isoperimetry`, :mod:`lawlib.fitting` — concentration checks; fits with uncertainties.
* :mod:`lawlib.rademacher`, :mod:`lawlib.constrained` — Rademacher complexity; weight-bounded deep networks.
* :mod:`lawlib.envelope`, :mod:`lawlib.intrinsic` — the back-of-the-envelope; intrinsic dimension.
* :mod:`lawlib.beyond` — starting points for the open directions.
* :mod:`lawlib.plotting` — the book's figure style.
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
    perturbation_norms,
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
    max_gradient_experiment,
    memorizes,
    train_batched,
)
from .baum import BaumNetwork, baum_network
from .beyond import (
    architecture_sweep,
    cell_label_variance,
    conv_net,
    cube_fit_lipschitz_bound,
    cube_grid,
    flip_radii,
    gradient_lp_norms,
    median_min_distance_uniform,
    median_nn_distance_uniform,
    nd_law_experiment,
    nearest_neighbour_distances,
    opposite_label_distance,
    pigeonhole_distance,
    rbf_mean_square_gradient,
    sample_cube,
    unit_ball_volume,
    width_for_parameters,
)

# the universal-law chapter: isoperimetry, the universal law's formulas, fits with uncertainties, the projected RBF
# the weight-bounded chapter: weight-bounded deep networks, Rademacher complexity, norm-based bounds
from .bounds import (
    bubeck_sellke_bound,
    bubeck_sellke_sample_size,
    cap_probability_bound,
    deep_network_law_bound,
    deep_network_log_lipschitz,
    deep_rademacher_bound,
    deep_rademacher_bound_for_model,
    fit_probability_bound,
    fit_rademacher_lower_bound,
    forced_depth,
    forced_norm_product,
    frobenius_bounds_from_spectral,
    massart_rademacher_bound,
    net_log_size,
    noise_floor_pass_probability_bound,
    path_norm_two_layer,
    two_layer_rademacher_bound,
    universal_law_scale,
)
from .constrained import (
    ConstrainedFit,
    ConstrainedMLP,
    DepthExperiment,
    DepthSearch,
    depth_experiment,
    project_weight_norm,
    smallest_fitting_depth,
    train_constrained,
    weight_norms,
)
from .constructions import (
    CapOverlapWarning,
    McShaneExtension,
    NeuronPerPoint,
    ProjectedRBF,
    RBFMemorizer,
    WhitneyExtension,
    projected_dimension,
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
from .envelope import (
    MADRY_CAPACITY_SCALES,
    Calibration,
    Interval,
    ModelSize,
    VisionTransformer,
    calibrate,
    dimension_ratio,
    effective_dimension,
    envelope_parameters,
    image_dimension,
    madry_mnist_cnn,
    madry_mnist_parameter_count,
    predicted_parameters,
    reference_models,
    resnet_imagenet,
    vision_transformer,
    wide_resnet_cifar,
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
    pairwise_distances,
    sample_pair_inner_products,
)
from .hardware import matmul_throughput, progress
from .intrinsic import (
    ImageData,
    MLEEstimate,
    PCAProfile,
    embedded_curve,
    embedded_gaussian,
    knn_distances,
    load_mnist_if_available,
    mle_dimension,
    mle_dimension_curve,
    mle_from_distances,
    pca_components,
    pca_profile,
    read_idx,
    twonn_dimension,
    twonn_from_distances,
)
from .isoperimetry import (
    LipschitzTestFunction,
    coordinate_function,
    distance_function,
    empirical_tail,
    isoperimetric_bound,
    known_isoperimetric_constant,
    lipschitz_test_functions,
    max_coordinate_function,
    norm_function,
    orthogonal_relu_network,
    smallest_isoperimetric_constant,
)
from .lipschitz import (
    LipschitzEstimate,
    gradient_ascent_lipschitz,
    gradient_norms,
    max_gradient_norm,
    max_pairwise_slope,
    spectral_norm_product,
)
from .models import count_parameters, mlp, two_layer_relu
from .rademacher import (
    RademacherEstimate,
    estimate_rademacher,
    finite_class_rademacher,
    linear_class_rademacher,
)
from .scale import PRESETS, Scale, get_scale
from .train import (
    TrainResult,
    train_classifier,
    train_regression,
    train_until_memorized,
)

__version__ = "0.3.0"

# The figure helpers need matplotlib (about 0.5 s to import): load lawlib.plotting on first use.
_LAZY = {
    name: "plotting"
    for name in (
        "PALETTE",
        "adversarial_examples_figure",
        "attack_widget_frame",
        "figure",
        "label",
        "use_style",
    )
}
_SUBMODULES = (
    "plan",
    "frontier",
)  # imported on first use: lawlib.plan("colab", "t4"), lawlib.frontier.train_penalized


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
