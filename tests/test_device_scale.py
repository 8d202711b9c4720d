"""Tests of lawlib.device and lawlib.scale: device choice, scale choice, presets, and the set-up cell."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from helpers import raises_naming
import lawlib
from lawlib import PRESETS, Scale, get_scale, pick_device, setup
from lawlib.device import COLAB_GPU_HINT, describe_device, in_colab
from lawlib.scale import SCALE_NAMES, ScaleError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """Every test starts without the overrides (they may be set in the shell running the tests)."""
    monkeypatch.delenv("LAWLIB_DEVICE", raising=False)
    monkeypatch.delenv("LAWLIB_SCALE", raising=False)
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)


@pytest.fixture
def no_accelerator(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(lawlib.device, "_mps_available", lambda: False)


known_names = {"auto", "cpu", "cuda", "mps", "quick", "full"}
unknown_names = st.one_of(
    st.text(max_size=8).filter(lambda s: s.strip().lower() not in known_names),
    st.integers(),
    st.floats(allow_nan=False),
    st.just(b"cpu"),
)


# ----------------------------------------------------------------------------- pick_device


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
    expected = "cuda" if torch.cuda.is_available() else ("mps" if lawlib.device._mps_available() else "cpu")
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
    raises_naming("cuda", pick_device)  # asked for through the environment, still refused
    assert pick_device("cpu") == torch.device("cpu")  # the argument wins over the environment
    monkeypatch.setenv("LAWLIB_DEVICE", "tpu")
    raises_naming("device", pick_device)


def test_describe_device():
    assert describe_device(torch.device("cpu")).startswith("cpu (")
    assert str(torch.get_num_threads()) in describe_device(torch.device("cpu"))
    assert describe_device(torch.device("mps")) == "mps"


# ----------------------------------------------------------------------------- get_scale


def test_get_scale_defaults_follow_the_device():
    assert get_scale().name == "quick"
    assert get_scale(device="cpu").name == "quick"
    assert get_scale(device=torch.device("cpu")).name == "quick"
    assert get_scale(device="cuda").name == "full"
    assert get_scale(device=torch.device("cuda", 0)).name == "full"
    assert get_scale(device="mps").name == "quick"


def test_get_scale_explicit_and_environment(monkeypatch):
    assert get_scale("full").name == "full"
    assert get_scale(" Quick ").name == "quick"
    assert get_scale("quick", device="cuda").name == "quick"  # the argument wins over the device
    monkeypatch.setenv("LAWLIB_SCALE", "full")
    assert get_scale().name == "full"
    assert get_scale(device="cpu").name == "full"  # the environment wins over the device
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
            assert vars(ns) == block[name]
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


def test_presets_structure_every_chapter_has_the_same_keys_at_both_scales():
    assert PRESETS, "PRESETS is empty"
    for chapter, block in PRESETS.items():
        assert isinstance(chapter, str) and chapter
        assert set(block) == set(SCALE_NAMES), f"{chapter}: scales {sorted(block)}"
        quick, full = block["quick"], block["full"]
        assert set(quick) == set(full), f"{chapter}: keys differ: {set(quick) ^ set(full)}"
        for key in quick:
            assert key.isidentifier(), f"{chapter}.{key} is not usable as an attribute"
            # Same kind of value at both scales (a size stays a number, a tuple stays a tuple...).
            assert type(quick[key]) is type(full[key]) or (
                isinstance(quick[key], (int, float)) and isinstance(full[key], (int, float))
            ), f"{chapter}.{key}: {type(quick[key]).__name__} vs {type(full[key]).__name__}"


# ----------------------------------------------------------------------------- setup


def test_setup_prints_device_and_scale(capsys, no_accelerator):
    dev, sc = setup()
    out = capsys.readouterr().out
    assert dev == torch.device("cpu") and sc.name == "quick"
    assert "device = cpu" in out and "scale = quick" in out
    assert COLAB_GPU_HINT not in out


def test_setup_arguments_and_environment(capsys, monkeypatch, no_accelerator):
    dev, sc = setup("cpu", "full")
    out = capsys.readouterr().out
    assert sc.name == "full" and "scale = full" in out
    monkeypatch.setenv("LAWLIB_SCALE", "full")
    monkeypatch.setenv("LAWLIB_DEVICE", "cpu")
    dev, sc = setup()
    assert dev.type == "cpu" and sc.name == "full"
    assert "scale = full" in capsys.readouterr().out


def test_setup_quiet(capsys, no_accelerator):
    setup(verbose=False)
    assert capsys.readouterr().out == ""


def test_setup_in_colab_without_gpu_prints_hint(capsys, monkeypatch, no_accelerator):
    monkeypatch.setenv("COLAB_RELEASE_TAG", "test")
    assert in_colab()
    setup()
    assert COLAB_GPU_HINT in capsys.readouterr().out


def test_setup_rejects_bad_names(no_accelerator):
    raises_naming("device", setup, "tpu")
    raises_naming("scale", setup, "cpu", "huge")
