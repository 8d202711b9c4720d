"""Tests of lawlib.chapters.imagenet_envelope: the arithmetic of the back-of-the-
envelope, and parameter counts of built networks."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import raises_naming
from hypothesis import given
from hypothesis import strategies as st

from lawlib import count_parameters, make_generator
from lawlib.chapters.imagenet_envelope import (
    Interval,
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

positive = st.floats(1e-3, 1e12, allow_nan=False, allow_infinity=False)
bad_numbers = st.sampled_from(
    [0, -1, -2.5, float("nan"), float("inf"), float("-inf"), "many", None, [1.0, 2.0]]
)


# --------------------------------------------------------------------------- arithmetic


def test_hand_values():
    assert image_dimension(28, 28) == 784
    assert image_dimension(224, 224, 3) == 150_528
    assert image_dimension(256, 256, 3) == 196_608
    assert effective_dimension(2e5, 6e4) == pytest.approx(10 / 3, rel=1e-15)
    assert predicted_parameters(1.4e7, 2e3) == pytest.approx(2.8e10, rel=1e-15)
    assert dimension_ratio(784, 7.84) == pytest.approx(100, rel=1e-15)
    assert envelope_parameters(1.4e7, 2e5, 100) == pytest.approx(2.8e10, rel=1e-15)
    assert envelope_parameters(6e4, 784, 100) == pytest.approx(470_400, rel=1e-15)


@given(positive, positive, positive)
def test_the_formulas_are_consistent(n, d, p):
    deff = effective_dimension(p, n)
    assert predicted_parameters(n, deff) == pytest.approx(p, rel=1e-12)
    assert envelope_parameters(n, d, dimension_ratio(d, deff)) == pytest.approx(
        p, rel=1e-12
    )


def test_calibration_hand_example():
    cal = calibrate(60_000, 784, (2e5, 3e6))
    assert cal.parameters == Interval(2e5, 3e6)
    assert cal.effective_dimension.low == pytest.approx(
        10 / 3
    ) and cal.effective_dimension.high == pytest.approx(50)
    assert cal.ratio.low == pytest.approx(784 / 50) and cal.ratio.high == pytest.approx(
        784 * 3 / 10
    )
    # carried to ImageNet (n = 1.4e7, d = 2e5): n d / ratio
    pred = cal.predict(1.4e7, 2e5)
    assert pred.low == pytest.approx(
        1.4e7 * 2e5 / (784 * 0.3)
    ) and pred.high == pytest.approx(1.4e7 * 2e5 / 15.68)
    single = calibrate(10, 100, 50)
    assert single.effective_dimension == Interval(5, 5) and single.ratio == Interval(
        20, 20
    )


@given(positive, positive, positive, st.floats(1, 1e3))
def test_calibration_round_trip(n, d, p, spread):
    cal = calibrate(n, d, (p, p * spread))
    back = cal.predict(n, d)  # the same data set gives back the calibrating counts
    assert back.low == pytest.approx(p, rel=1e-12) and back.high == pytest.approx(
        p * spread, rel=1e-12
    )
    assert cal.ratio.decades == pytest.approx(
        cal.parameters.decades, rel=1e-9, abs=1e-12
    )


def test_interval():
    iv = Interval(10.0, 1000.0)
    assert 10 in iv and 1000 in iv and 500 in iv and 9.99 not in iv and 1001 not in iv
    assert iv.geometric_mean == pytest.approx(100.0) and iv.decades == pytest.approx(
        2.0
    )
    raises_naming("low", Interval, 5.0, 1.0)
    raises_naming("low", Interval, 0.0, 1.0)
    raises_naming("high", Interval, 1.0, float("nan"))


# --------------------------------------------------------------------- the MNIST family


def test_madry_counts_hand_values():
    # by hand from the layer shapes: conv 5×5×1→2s and 5×5×2s→4s, dense 7·7·4s→64s
    # and 64s→10, each with biases: 12744 s² + 760 s + 10
    expected = {1: 13_514, 2: 52_506, 4: 206_954, 8: 821_706, 16: 3_274_634}
    for s, p in expected.items():
        assert madry_mnist_parameter_count(s) == p
        assert count_parameters(madry_mnist_cnn(s)) == p


@given(st.integers(1, 20), st.sampled_from([1, 3, 5, 7]))
def test_madry_closed_form_matches_the_built_module(scale, kernel):
    assert count_parameters(
        madry_mnist_cnn(scale, kernel_size=kernel)
    ) == madry_mnist_parameter_count(scale, kernel)


def test_madry_scale_16_is_the_released_mnist_challenge_model():
    # model.py of MadryLab/mnist_challenge: W_conv1 [5,5,1,32], W_conv2 [5,5,32,64],
    # W_fc1 [3136,1024], W_fc2 [1024,10]
    net = madry_mnist_cnn(16)
    shapes = [tuple(p.shape) for p in net.parameters()]
    assert shapes == [
        (32, 1, 5, 5),
        (32,),
        (64, 32, 5, 5),
        (64,),
        (1024, 3136),
        (1024,),
        (10, 1024),
        (10,),
    ]


def test_madry_forward_shapes_and_same_padding():
    net = madry_mnist_cnn(2)
    x = torch.rand(3, 784, generator=make_generator(0))
    assert net(x).shape == (3, 10)
    h = x
    sizes = []
    for layer in net:
        h = layer(h)
        sizes.append(tuple(h.shape[1:]))
    assert sizes[:7] == [
        (1, 28, 28),
        (4, 28, 28),
        (4, 28, 28),
        (4, 14, 14),
        (8, 14, 14),
        (8, 14, 14),
        (8, 7, 7),
    ]


def test_madry_generator_seeds_the_weights():
    a, b = (
        madry_mnist_cnn(1, generator=make_generator(3)),
        madry_mnist_cnn(1, generator=make_generator(3)),
    )
    c = madry_mnist_cnn(1, generator=make_generator(4))
    pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)
    first = a[1].weight  # conv 1: fan-in 25, so |w| <= 1/5
    assert float(first.detach().abs().max()) <= 0.2


# -------------------------------------------------------------- reference architectures


def test_reference_counts():
    # torchvision documents 25,557,032 (resnet50), 68,883,240 (wide_resnet50_2),
    # 86,567,656 (vit_b_16) and 304,326,632 (vit_l_16); Zagoruyko and Komodakis give
    # 36.5M for WRN-28-10, Dosovitskiy et al. 632M for ViT-H
    models = reference_models()
    sizes = {m.name: m.parameters for m in models}
    assert sizes["ResNet-50"] == 25_557_032
    assert sizes["WRN-50-2"] == 68_883_240
    assert sizes["ViT-B/16"] == 86_567_656
    assert sizes["ViT-L/16"] == 304_326_632
    assert round(sizes["ViT-H/14"] / 1e6) == 632
    assert round(sizes["WRN-28-10"] / 1e5) == 365
    assert all(m.computed for m in models) and len(sizes) == len(models)


def test_small_architectures_run():
    g = make_generator(0)
    r = resnet_imagenet((1, 1, 1, 1), num_classes=7, device="cpu").eval()
    assert r(torch.rand(2, 3, 64, 64, generator=g)).shape == (2, 7)
    w = wide_resnet_cifar(10, 1, device="cpu").eval()
    assert w(torch.rand(2, 3, 32, 32, generator=g)).shape == (2, 10)
    v = vision_transformer(32, 8, 16, 2, 2, 32, num_classes=5, device="cpu").eval()
    assert v(torch.rand(2, 3, 32, 32, generator=g)).shape == (2, 5)


def test_vit_count_formula():
    # patch embedding + class token + positions + depth x (2 LN + attention + MLP) +
    # final LN + head
    p, dim, depth, mlp, classes, image = 8, 16, 3, 40, 5, 32
    tokens = (image // p) ** 2 + 1
    per_layer = (
        4 * dim
        + (3 * dim * dim + 3 * dim)
        + (dim * dim + dim)
        + (dim * mlp + mlp)
        + (mlp * dim + dim)
    )
    expected = (
        3 * p * p * dim
        + dim
        + dim
        + tokens * dim
        + depth * per_layer
        + 2 * dim
        + dim * classes
        + classes
    )
    assert (
        count_parameters(
            vision_transformer(image, p, dim, depth, 4, mlp, num_classes=classes)
        )
        == expected
    )


# ---------------------------------------------------------------------------- bad input


@given(bad_numbers)
def test_arithmetic_bad_input(v):
    raises_naming("parameters", effective_dimension, v, 10)
    raises_naming("n", effective_dimension, 10, v)
    raises_naming("n", predicted_parameters, v, 10)
    raises_naming("d_eff", predicted_parameters, 10, v)
    raises_naming("d", dimension_ratio, v, 10)
    raises_naming("d_eff", dimension_ratio, 10, v)
    raises_naming("n", envelope_parameters, v, 10, 10)
    raises_naming("d", envelope_parameters, 10, v, 10)
    raises_naming("ratio", envelope_parameters, 10, 10, v)
    raises_naming("n", calibrate, v, 10, 10)
    raises_naming("d", calibrate, 10, v, 10)
    if not isinstance(v, list):  # a list is a (low, high) pair for calibrate
        raises_naming("parameters", calibrate, 10, 10, v)
    raises_naming("n", calibrate(10, 10, 10).predict, v, 10)


def test_calibrate_bad_pairs():
    raises_naming("parameters", calibrate, 10, 10, (5, 1))
    raises_naming("parameters", calibrate, 10, 10, (1, 2, 3))
    raises_naming("parameters", calibrate, 10, 10, "12")


@given(st.sampled_from([0, -1, 2.5, "3", None, True]))
def test_integer_arguments(v):
    raises_naming("height", image_dimension, v, 3)
    raises_naming("width", image_dimension, 3, v)
    raises_naming("channels", image_dimension, 3, 3, v)
    raises_naming("scale", madry_mnist_cnn, v)
    raises_naming("scale", madry_mnist_parameter_count, v)
    raises_naming("depth", vision_transformer, depth=v)
    raises_naming("num_classes", resnet_imagenet, num_classes=v)
    raises_naming("widen", wide_resnet_cifar, 28, v)


def test_architecture_bad_input():
    raises_naming("kernel_size", madry_mnist_cnn, 1, kernel_size=4)
    raises_naming("generator", madry_mnist_cnn, 1, generator=3)
    raises_naming("depth", wide_resnet_cifar, 27)
    raises_naming("layers", resnet_imagenet, (3, 4, 6))
    raises_naming("layers[1]", resnet_imagenet, (3, 0, 6, 3))
    raises_naming("layers", resnet_imagenet, 50)
    raises_naming("heads", vision_transformer, dim=10, heads=3)
    raises_naming("patch_size", vision_transformer, image_size=16, patch_size=32)
    assert math.isclose(madry_mnist_parameter_count(4) / 6e4, 3.449, rel_tol=1e-3)
