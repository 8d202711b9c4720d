"""Tests of lawlib.device and lawlib.scale: device choice, scale choice, presets, and
the set-up cell.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from helpers import raises_naming
from hypothesis import given
from hypothesis import strategies as st

import lawlib
from lawlib import PRESETS, Scale, get_scale, pick_device, setup
from lawlib.chapters import beyond, imagenet_envelope, universal_law
from lawlib.device import COLAB_GPU_HINT, describe_device, in_colab
from lawlib.scale import SCALE_NAMES, ScaleError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """Every test starts without the overrides (they may be set in the shell running the
    tests).
    """
    monkeypatch.delenv("LAWLIB_DEVICE", raising=False)
    monkeypatch.delenv("LAWLIB_SCALE", raising=False)
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)


@pytest.fixture
def no_accelerator(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(lawlib.device, "_mps_available", lambda: False)


known_names = {"auto", "cpu", "cuda", "mps", "quick", "colab", "full"}
unknown_names = st.one_of(
    st.text(max_size=8).filter(lambda s: s.strip().lower() not in known_names),
    st.integers(),
    st.floats(allow_nan=False),
    st.just(b"cpu"),
)


# -------------------------------------------------------------------------- pick_device


def test_pick_device_cpu():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(" CPU ") == torch.device("cpu")  # case and spaces are forgiven


def test_pick_device_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(lawlib.device, "_mps_available", lambda: False)
    assert pick_device("auto") == torch.device("cpu")
    assert pick_device() == torch.device("cpu")
    monkeypatch.setattr(lawlib.device, "_mps_available", lambda: True)
    assert pick_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == torch.device("cuda")


def test_pick_device_auto_matches_this_machine():
    expected = (
        "cuda"
        if torch.cuda.is_available()
        else ("mps" if lawlib.device._mps_available() else "cpu")
    )
    assert pick_device().type == expected


@given(name=unknown_names)
def test_pick_device_unknown_name_raises_naming_device(name):
    raises_naming("device", pick_device, name)


def test_pick_device_unavailable_accelerators_raise(no_accelerator):
    raises_naming("cuda", pick_device, "cuda")
    raises_naming("mps", pick_device, "mps")


def test_pick_device_cuda_when_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device("cuda") == torch.device("cuda")


def test_lawlib_device_environment_override(monkeypatch, no_accelerator):
    monkeypatch.setenv("LAWLIB_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")
    monkeypatch.setenv("LAWLIB_DEVICE", "")  # empty means auto
    assert pick_device() == torch.device("cpu")
    monkeypatch.setenv("LAWLIB_DEVICE", "cuda")
    raises_naming(
        "cuda", pick_device
    )  # asked for through the environment, still refused
    assert pick_device("cpu") == torch.device(
        "cpu"
    )  # the argument wins over the environment
    monkeypatch.setenv("LAWLIB_DEVICE", "tpu")
    raises_naming("device", pick_device)


def test_describe_device():
    assert describe_device(torch.device("cpu")).startswith("cpu (")
    assert str(torch.get_num_threads()) in describe_device(torch.device("cpu"))
    assert describe_device(torch.device("mps")) == "mps"


# ---------------------------------------------------------------------------- get_scale


def test_get_scale_defaults_follow_the_device(monkeypatch):
    """quick on a CPU; on a GPU the cost model decides from its measured rate and
    memory, not "CUDA is there".
    """
    from lawlib import plan

    assert get_scale().name == "quick"
    assert get_scale(device="cpu").name == "quick"
    assert get_scale(device=torch.device("cpu")).name == "quick"
    big = plan._profile("a large GPU", "cuda", 60e12, 140 * 2**30)
    small = plan._profile("a small GPU", "cuda", 1e12, 4 * 2**30)
    for profile, expected in ((plan.T4, "colab"), (big, "full"), (small, "quick")):
        monkeypatch.setattr(plan, "device_profile", lambda dev, p=profile: p)
        assert get_scale(device="cuda").name == expected, profile.name
        assert get_scale(device=torch.device("cuda", 0)).name == expected
        assert get_scale(device="mps").name == expected


def test_get_scale_explicit_and_environment(monkeypatch):
    assert get_scale("full").name == "full"
    assert get_scale(" Quick ").name == "quick"
    assert (
        get_scale("quick", device="cuda").name == "quick"
    )  # the argument wins over the device
    monkeypatch.setenv("LAWLIB_SCALE", "full")
    assert get_scale().name == "full"
    assert (
        get_scale(device="cpu").name == "full"
    )  # the environment wins over the device
    assert get_scale("quick").name == "quick"  # the argument wins over the environment
    monkeypatch.setenv("LAWLIB_SCALE", "")
    assert get_scale(device="cpu").name == "quick"  # empty means unset
    monkeypatch.setenv("LAWLIB_SCALE", "medium")
    raises_naming("scale", get_scale)


@given(name=unknown_names)
def test_get_scale_unknown_name_raises_naming_scale(name):
    raises_naming("scale", get_scale, name)


@pytest.mark.parametrize("device", ["tpu", "gpu"])
def test_get_scale_unknown_device_raises_naming_device(device):
    raises_naming("device", get_scale, None, device=device)


def test_scale_object_and_unknown_chapter():
    sc = get_scale("quick")
    assert isinstance(sc, Scale) and not sc.is_full and get_scale("full").is_full
    with pytest.raises(ValueError) as info:
        sc["no-such-chapter"]
    assert isinstance(info.value, ScaleError)
    assert "no-such-chapter" in str(info.value)


def test_scale_namespaces_match_presets_and_are_copies():
    for name in SCALE_NAMES:
        sc = get_scale(name)
        assert set(sc.presets) == set(PRESETS)
        for chapter, block in PRESETS.items():
            ns = sc[chapter]
            assert isinstance(ns, SimpleNamespace)
            assert vars(ns) == block.get(name, block["quick"])
    # Changing what a chapter read must not change the presets of the next reader.
    sc = get_scale("quick")
    chapter = next(iter(PRESETS))
    ns = sc[chapter]
    key = next(iter(vars(ns)))
    original = PRESETS[chapter]["quick"][key]
    setattr(ns, key, "changed")
    assert getattr(sc[chapter], key) == original
    with pytest.raises(TypeError):
        sc.presets[chapter] = {}  # read-only mapping


def test_presets_structure_every_chapter_has_the_same_keys_at_every_scale():
    assert PRESETS, "PRESETS is empty"
    assert SCALE_NAMES == ("quick", "colab", "full")
    for chapter, block in PRESETS.items():
        assert isinstance(chapter, str) and chapter
        assert set(block) <= set(SCALE_NAMES) and {"quick", "full"} <= set(block), (
            f"{chapter}: scales {sorted(block)}"
        )
        quick = block["quick"]
        for name in set(block) - {"quick"}:
            other = block[name]
            assert set(quick) == set(other), (
                f"{chapter}: keys differ at {name}: {set(quick) ^ set(other)}"
            )
            for key in quick:
                assert key.isidentifier(), (
                    f"{chapter}.{key} is not usable as an attribute"
                )
                # Same kind of value at every scale (a size stays a number, a tuple
                # stays a tuple...).
                assert type(quick[key]) is type(other[key]) or (
                    isinstance(quick[key], (int, float))
                    and isinstance(other[key], (int, float))
                ), (
                    f"{chapter}.{key}: {type(quick[key]).__name__} vs "
                    f"{type(other[key]).__name__} at {name}"
                )


def test_every_block_has_a_colab_entry():
    """A block without one runs its quick sizes at the colab scale; the list says which
    to size for a T4.
    """
    missing = sorted(b for b, p in PRESETS.items() if "colab" not in p)
    assert not missing, (
        f"no 'colab' sizes for {missing}: add them to lawlib.scale._COLAB"
    )
    sc = get_scale("colab")
    assert set(sc.presets) == set(PRESETS)


def test_colab_falls_back_to_quick_for_a_block_without_colab_sizes(monkeypatch):
    monkeypatch.setitem(PRESETS, "new_block", {"quick": {"n": 3}, "full": {"n": 30}})
    assert get_scale("colab")["new_block"].n == 3
    assert get_scale("full")["new_block"].n == 30


# ----------------------------------------------------------------------------- setup


def test_setup_prints_device_and_scale(capsys, no_accelerator):
    dev, sc = setup()
    out = capsys.readouterr().out
    assert dev == torch.device("cpu") and sc.name == "quick"
    assert out.count("\n") == 1, "one line"
    assert (
        out.startswith("quick scale")
        and f"(cpu, {torch.get_num_threads()} threads)" in out
    )
    assert "LAWLIB_SCALE=colab|full" in out
    assert COLAB_GPU_HINT not in out


def test_setup_prints_the_chapters_estimated_time(capsys, no_accelerator, monkeypatch):
    from lawlib import plan

    monkeypatch.setattr(
        plan,
        "device_profile",
        lambda dev=None: plan._profile("test cpu", "cpu", 50e9, None),
    )
    setup(chapter="01_memorization_model")
    out = capsys.readouterr().out
    expected = plan.chapter_seconds(
        "memorization", get_scale("quick"), plan.device_profile()
    )
    assert f"about {plan.format_seconds(expected)} here" in out and out.count("\n") == 1
    setup(chapter="memorization")  # the block name works too
    assert "here (" in capsys.readouterr().out
    setup(chapter="99_unknown")  # no estimate, still one line
    out = capsys.readouterr().out
    assert "here" not in out and out.startswith("quick scale")


def test_setup_arguments_and_environment(capsys, monkeypatch, no_accelerator):
    dev, sc = setup("cpu", "full")
    out = capsys.readouterr().out
    assert sc.name == "full" and out.startswith("full scale")
    monkeypatch.setenv("LAWLIB_SCALE", "full")
    monkeypatch.setenv("LAWLIB_DEVICE", "cpu")
    dev, sc = setup()
    assert dev.type == "cpu" and sc.name == "full"
    assert capsys.readouterr().out.startswith("full scale")


def test_setup_in_colab_without_gpu_prints_hint(capsys, monkeypatch, no_accelerator):
    monkeypatch.setenv("COLAB_RELEASE_TAG", "test")
    assert in_colab()
    setup()
    assert COLAB_GPU_HINT in capsys.readouterr().out


def test_setup_rejects_bad_names(no_accelerator):
    raises_naming("device", setup, "tpu")
    raises_naming("scale", setup, "cpu", "huge")


# --------------------------------------------------------- the cost model (lawlib.plan)

from lawlib import plan  # noqa: E402
from lawlib.plan import COSTS, Cost  # noqa: E402


def test_training_flops_against_a_hand_count():
    # 2-layer ReLU network, d = 3, k = 4: a forward pass is 3*4 + 4 = 16 multiply-adds
    # per point, P = 3*4 + 4 (biases) + 4 (output) + 1 = 21 parameters
    # (as lawlib.two_layer_relu with an output bias)
    macs, params, act = plan.two_layer(3, 4)
    assert (macs, params) == (16, 21)
    assert params == lawlib.count_parameters(
        lawlib.two_layer_relu(3, 4, output_bias=True)
    )
    c = plan.train(10, macs, params, steps=5, nets=2)
    # per step and network: forward 2*10*16 = 320, backward 2 * 320 = 640, Adam 16 *
    # 21 = 336
    assert c.flops == 5 * 2 * (320 + 640 + 336) and c.launches == 5


def test_kernel_flops_against_hand_counts():
    assert plan.distances(7, 5, 3).flops == 2 * 7 * 5 * 3  # the Gram matrix x y^T
    assert (
        plan.distances(7, 5, 3, dtype_bytes=8).flops == 2 * 2 * 7 * 5 * 3
    )  # float64 counts twice
    assert plan.distances(4096, 10, 2, chunk=1024).launches == 4
    # PGD: 3 points x 4 steps x 2 radii, each step one forward (2 macs) and one backward
    # (4 macs)
    assert plan.attack(3, 16, steps=4, bisection=2).flops == 3 * 4 * 2 * 6 * 16
    assert plan.gradients(9, 16).flops == 9 * 6 * 16
    assert plan.mlp_macs([8, 16, 16, 1]) == 8 * 16 + 16 * 16 + 16


def test_chapter_cost_against_a_hand_count():
    """Experiment 2 of chapter 5 at tiny sizes: n = 4, d = 2, widths {n, 10n/d} =
    {4, 20}, one seed, one step.
    """
    s = SimpleNamespace(exp2_n=4, exp2_dims=(2,), exp2_seeds=(0,), steps=1, n_fresh=3)
    c = plan._max_gradient_cell(s.exp2_n, 2, [4, 20], 1, s.steps, s.n_fresh)
    hand = 0
    for k in (4, 20):
        macs, params = 2 * k + k, 2 * k + 2 * k + 1
        hand += 6 * 4 * macs + 16 * params  # one training step on the 4 points
        hand += 6 * 3 * macs  # input gradients at the 3 fresh points
    assert c.flops == hand


def test_costs_add_and_repeat():
    a, b = Cost(1, 2, 3, 10), Cost(4, 5, 6, 7)
    assert a + b == Cost(5, 7, 9, 10)  # work adds up, memory is the larger peak
    assert a * 3 == Cost(3, 6, 9, 10) == 3 * a


@pytest.mark.parametrize("scale", SCALE_NAMES)
def test_every_experiment_has_a_finite_positive_cost(scale):
    sc = get_scale(scale)
    for block in COSTS:
        costs = plan.experiment_costs(block, sc)
        assert costs, block
        for name, c in costs.items():
            for v in (c.flops, c.elements, c.launches, c.memory):
                assert math.isfinite(v) and v >= 0, (block, name)
            assert c.flops + c.elements > 0, (block, name)


def test_every_block_has_a_cost_model():
    """Lists the blocks of PRESETS with no entry in lawlib.plan.COSTS
    (they are planned as 'unknown').
    """
    missing = plan.blocks_without_cost()
    assert not missing, (
        f"no cost model for {missing}: add a function of the block's sizes to "
        "lawlib.plan.COSTS"
    )


def test_a_block_without_a_cost_is_reported_unknown(monkeypatch, capsys):
    monkeypatch.setitem(PRESETS, "new_block", {"quick": {"n": 3}, "full": {"n": 30}})
    assert plan.blocks_without_cost() == ["new_block"]
    prof = plan._profile("test cpu", "cpu", 50e9, None)
    totals = plan.plan("quick", prof)
    out = capsys.readouterr().out
    assert (
        totals["new_block"] is None
        and "unknown" in out
        and "no cost model yet for: new_block" in out
    )
    assert plan.chapter_seconds("new_block", "quick", prof) is None


def test_the_scales_grow_and_fit_their_budgets():
    """quick < colab < full in flops for every chapter; colab fits a T4
    (16 GB, 10 minutes) by the model.
    """
    for block in COSTS:
        f = {
            s: sum(
                c.flops + c.elements for c in plan.experiment_costs(block, s).values()
            )
            for s in SCALE_NAMES
        }
        assert f["quick"] <= f["colab"] <= f["full"], (block, f)
        assert plan.chapter_seconds(block, "colab", plan.T4) < 600, block
        assert plan.chapter_memory(block, "colab") < 0.8 * plan.T4.memory_bytes, block
    assert plan.choose_scale(plan.T4) == "colab"
    # chapter 5 at the colab scale: n in the thousands, d into the hundreds
    u = get_scale("colab")["universal"]
    assert u.exp2_n >= 1000 and max(u.exp2_dims) >= 200


def test_plan_prints_every_chapter_and_experiment(capsys):
    prof = plan._profile("test cpu", "cpu", 50e9, None)
    totals = plan.plan("full", prof)
    out = capsys.readouterr().out
    for block, fn in COSTS.items():
        assert plan.CHAPTERS[block] in out
        for name in fn(get_scale("full")[block]):
            assert name[:58] in out
    assert set(totals) == {plan.CHAPTERS.get(b, b) for b in PRESETS}


def test_plan_command_line():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "lawlib.plan", "--scale", "colab", "--device", "t4"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert (
        "scale colab on Colab T4 (nominal)" in out.stdout
        and "05_universal_law" in out.stdout
    )


_MEMORY_CHILD = """
import resource, sys, torch, lawlib
from lawlib import plan
torch.manual_seed(0)
n, d, k = 4000, 50, 2000
x, y = torch.randn(n, d), torch.sign(torch.randn(n))
net = lawlib.two_layer_relu(d, k)
def status(key):  # VmRSS / VmHWM of this process in bytes (Linux)
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
# reset the high-water mark, so an earlier transient peak (imports) cannot hide the
# training's
try:
    open("/proc/self/clear_refs", "w").write("5")
    base = status("VmRSS")
    lawlib.train_regression(net, x, y, steps=3, lr=1e-3, progress=False)
    peak = status("VmHWM")
except OSError:  # not Linux: the process's maximum resident size
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    lawlib.train_regression(net, x, y, steps=3, lr=1e-3, progress=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
macs, params, act = plan.two_layer(d, k)
print(peak - base, plan.train(n, macs, params, 3, act=act).memory)
"""


def test_memory_estimate_against_the_measured_peak():
    """The training memory estimate is within a factor 3 of the peak resident memory it
    adds (CPU, VmHWM).
    """
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr
    measured, estimated = map(float, out.stdout.split())
    assert estimated / 3 <= measured <= 3 * estimated, (measured, estimated)


# ---------------------------------------------------------------------- MPS: no float64


class _NoFloat64(torch.utils._python_dispatch.TorchDispatchMode):
    """A stand-in for Apple's MPS: any operation that produces a float64 tensor
    raises."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor) and t.dtype == torch.float64:
                raise TypeError(f"{func}: the MPS framework doesn't support float64")
        return out


@pytest.fixture
def mps_stand_in(monkeypatch):
    """The CPU plays a device without float64: lawlib's helpers answer as they would on
    MPS.
    """
    monkeypatch.setattr(lawlib.device, "lacks_float64", lambda device: True)
    calls = []

    def host(device):
        calls.append(torch.device(device))
        return torch.device("cpu")

    for module in (
        lawlib.device,
        lawlib.baum,
        lawlib.chapters.imagenet_envelope,
        lawlib.chapters.universal_law,
        lawlib.chapters.beyond,
    ):
        monkeypatch.setattr(module, "float64_device", host)
    return calls


def test_float64_helpers():
    from lawlib.device import exact_dtype, float64_device, lacks_float64

    assert (
        lacks_float64("mps")
        and not lacks_float64("cpu")
        and not lacks_float64(torch.device("cuda", 0))
    )
    assert float64_device("mps") == torch.device("cpu") and float64_device(
        "cpu"
    ) == torch.device("cpu")
    assert exact_dtype("mps") == torch.float32 and exact_dtype("cpu") == torch.float64
    assert exact_dtype("mps", torch.float16) == torch.float16


def test_float32_paths_make_no_float64_on_a_device_without_it(mps_stand_in):
    axis = [i / 4 for i in range(5)]
    expected = torch.tensor([[a, b] for a in axis for b in axis], dtype=torch.float64)
    with _NoFloat64():
        grid = beyond.cube_grid(5, 2)
        with pytest.raises(TypeError):
            torch.zeros(2, dtype=torch.float64)  # the stand-in does reject float64
    assert grid.dtype == torch.float32
    assert torch.allclose(grid.double(), expected, atol=1e-7)


def test_float64_paths_move_to_the_host_on_a_device_without_it(mps_stand_in):
    """Baum's construction, the isoperimetry network, the cube cell bound and the
    intrinsic-dimension MLE ask lawlib.device.float64_device where to run
    (the CPU instead of MPS) and give the same answers."""
    x = lawlib.sample_sphere(30, 5, seed=0)
    y = lawlib.random_signs(30, seed=1)
    net = lawlib.baum_network(x, y)
    with torch.no_grad():
        assert float((net(x) - y.double()).abs().max()) < 1e-9
    fns = universal_law.lipschitz_test_functions(
        8, torch.Generator().manual_seed(0), device="cpu"
    )
    z = torch.randn(100, 8)
    assert (
        fns[-1](z).dtype == torch.float32
    )  # evaluated on the host, returned in the input's dtype
    pts = beyond.sample_cube(50, 2, torch.Generator().manual_seed(0))
    beyond.cell_label_variance(pts, lawlib.random_signs(50, seed=2), 3)
    imagenet_envelope.mle_dimension(torch.randn(200, 4), 5)
    assert len(mps_stand_in) >= 5 and all(d.type == "cpu" for d in mps_stand_in)


# ---------------------------------------------------------------------- the set-up cell

import math  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402


def test_setup_cell_passes_the_chapter_and_says_when_unpublished(monkeypatch, tmp_path):
    chapter = ROOT / "book" / "01_memorization_model.ipynb"
    monkeypatch.setattr(notebooks, "published", lambda: True)
    published = notebooks.setup_source(chapter)
    assert 'lawlib.setup(chapter="01_memorization_model")' in published
    assert f"git+{notebooks.repository_url().rstrip('/')}" in published
    monkeypatch.setattr(notebooks, "published", lambda: False)
    cell = notebooks.setup_source(chapter)
    assert (
        "git+" not in cell and "not published yet" in cell
    )  # never installs from the placeholder address
    assert 'os.environ.get("LAWLIB_SOURCE", "")' in cell
    # where lawlib is missing and no LAWLIB_SOURCE is given, it stops and says how to
    # install from a checkout
    env = {
        k: v
        for k, v in __import__("os").environ.items()
        if not k.startswith(("PYTHONPATH", "LAWLIB_"))
    }
    out = subprocess.run(
        [sys.executable, "-S", "-c", cell],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        out.returncode != 0
        and "not published yet" in out.stderr
        and "LAWLIB_SOURCE" in out.stderr
    )
    assert "Installing lawlib" not in out.stdout


def test_published_flag_is_read_from_the_config(monkeypatch, tmp_path):
    (tmp_path / "_config.yml").write_text(
        "title: x\nrepository:\n  url: https://example.org/x\n  published: false\n"
    )
    monkeypatch.setattr(notebooks, "ROOT", tmp_path)
    assert notebooks.published() is False
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://example.org/x\n")
    assert notebooks.published() is True


def test_a_cost_function_that_no_longer_fits_its_block_is_unknown(monkeypatch):
    quick = dict(PRESETS["memorization"]["quick"])
    del quick["n_pairs"]
    monkeypatch.setitem(
        PRESETS, "memorization", {**PRESETS["memorization"], "quick": quick}
    )
    assert plan.experiment_costs("memorization", "quick") is None
    assert plan.blocks_without_cost() == ["memorization"]
