"""lawlib: the helper package of *The Law of Robustness* lecture notes.

Flat modules, each named for the idea it holds:

* :mod:`lawlib.device` — device choice and the chapters' set-up.
* :mod:`lawlib.scale` — the ``quick``/``full`` scale presets.
* :mod:`lawlib.data` — sphere and Gaussian samples, the memorization task, digits.
* :mod:`lawlib.geometry` — chunked pairwise distances and inner products.
* :mod:`lawlib.lipschitz` — lower and upper bounds on Lipschitz constants.
* :mod:`lawlib.attacks` — adversarial examples: PGD/FGSM, smallest flipping perturbations.
* :mod:`lawlib.constructions`, :mod:`lawlib.baum` — memorizers with known Lipschitz constants.
* :mod:`lawlib.bounds` — the formulas of the theorems.
* :mod:`lawlib.models`, :mod:`lawlib.train` — networks and how they are fitted.
* :mod:`lawlib.batched` — a sweep of 2-layer networks trained at once (chapter 5).
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
from .baum import BaumNetwork, baum_network
from .batched import (
    BatchedResult,
    calibrate_batch_norm,
    concat_records,
    gaussian_sign_data,
    max_gradient_experiment,
    memorizes,
    train_batched,
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
from .device import COLAB_GPU_HINT, describe_device, in_colab, pick_device, setup
from .geometry import (
    PairExtreme,
    max_inner_product,
    min_pairwise_distance,
    pairwise_distances,
    inner_product_density,
    sample_pair_inner_products,
)
from .bounds import cap_probability_bound, noise_floor_pass_probability_bound
from .lipschitz import (
    LipschitzEstimate,
    gradient_ascent_lipschitz,
    gradient_norms,
    max_gradient_norm,
    max_pairwise_slope,
    spectral_norm_product,
)
from .constructions import CapOverlapWarning, McShaneExtension, NeuronPerPoint, RBFMemorizer, WhitneyExtension
from .models import count_parameters, mlp, two_layer_relu
from .plotting import PALETTE, adversarial_examples_figure, attack_widget_frame, figure, label, use_style
from .scale import PRESETS, Scale, get_scale
from .train import TrainResult, train_classifier, train_regression, train_until_memorized

__version__ = "0.2.0"
