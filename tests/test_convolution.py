"""Reference convolutions and conv arithmetic against SciPy, scikit-image and Keras layers."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

from coursepkg import convolution
from coursepkg.convolution import (
    classic_filter,
    conv2d_params,
    conv_output_size,
    convolve2d,
    correlate2d,
    gaussian_kernel,
    kirsch_kernels,
    receptive_field,
)

RNG_SHAPES = [
    ((7, 11), (3, 3)),
    ((12, 9), (5, 3)),
    ((6, 6), (1, 5)),
    ((9, 13), (3, 7)),
    ((5, 8), (5, 5)),
]


def _random(shape, seed):
    return np.random.default_rng(seed).normal(size=shape)


def _keras_conv(image: np.ndarray, kernel: np.ndarray, padding: str) -> np.ndarray:
    """What keras.layers.Conv2D computes with ``kernel`` as its only filter."""
    layer = keras.layers.Conv2D(
        1, kernel.shape, padding=padding, use_bias=False, kernel_initializer="zeros"
    )
    layer.build((None, *image.shape, 1))
    layer.set_weights([kernel[:, :, None, None].astype(np.float32)])
    output = layer(image[None, :, :, None].astype(np.float32))
    return keras.ops.convert_to_numpy(output)[0, :, :, 0]


# --------------------------------------------------------------------------- correlate / convolve


@pytest.mark.parametrize(("image_shape", "kernel_shape"), RNG_SHAPES)
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_against_scipy(image_shape, kernel_shape, padding):
    image, kernel = _random(image_shape, 0), _random(kernel_shape, 1)
    result = correlate2d(image, kernel, padding=padding)
    assert result.dtype == np.float64
    np.testing.assert_allclose(
        result, scipy.signal.correlate2d(image, kernel, mode=padding), atol=1e-12
    )
    np.testing.assert_allclose(
        convolve2d(image, kernel, padding=padding),
        scipy.signal.convolve2d(image, kernel, mode=padding),
        atol=1e-12,
    )


def test_correlation_is_not_convolution():
    image, kernel = _random((6, 7), 2), _random((3, 3), 3)
    assert not np.allclose(correlate2d(image, kernel), convolve2d(image, kernel))
    np.testing.assert_allclose(correlate2d(image, kernel[::-1, ::-1]), convolve2d(image, kernel))


@pytest.mark.parametrize(
    ("image_shape", "kernel_shape"),
    [*RNG_SHAPES, ((8, 7), (2, 4)), ((6, 9), (4, 4)), ((7, 7), (2, 3))],
)
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_against_keras_conv2d(image_shape, kernel_shape, padding):
    """Keras's Conv2D is a cross-correlation; for even kernels the extra padding goes bottom/right."""
    image, kernel = _random(image_shape, 4), _random(kernel_shape, 5)
    np.testing.assert_allclose(
        correlate2d(image, kernel, padding=padding),
        _keras_conv(image, kernel, padding),
        rtol=1e-4,
        atol=1e-4,
    )


def test_same_padding_keeps_the_size_and_valid_shrinks_it():
    image = _random((9, 14), 6)
    for kernel_shape in [(3, 3), (4, 2), (1, 1), (5, 6)]:
        kernel = _random(kernel_shape, 7)
        assert correlate2d(image, kernel, padding="same").shape == image.shape
        assert correlate2d(image, kernel).shape == (
            9 - kernel_shape[0] + 1,
            14 - kernel_shape[1] + 1,
        )


def test_integer_inputs_and_lists_are_accepted():
    image = np.arange(20).reshape(4, 5)
    kernel = [[1, 0], [0, -1]]
    np.testing.assert_array_equal(
        correlate2d(image, kernel), scipy.signal.correlate2d(image, kernel, "valid")
    )


@pytest.mark.parametrize("function", [correlate2d, convolve2d])
def test_bad_input(function):
    with pytest.raises(ValueError, match="image"):
        function(np.zeros(5), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="kernel"):
        function(np.zeros((5, 5)), np.zeros((3, 3, 1)))
    with pytest.raises(ValueError, match="padding"):
        function(np.zeros((5, 5)), np.zeros((3, 3)), padding="full")
    with pytest.raises(ValueError, match="fit"):
        function(np.zeros((5, 2)), np.zeros((3, 3)))


# --------------------------------------------------------------------------- output size


def _keras_output_shape(layer, size: tuple[int, int]) -> tuple[int, int]:
    output = layer(np.zeros((1, *size, 1), dtype=np.float32))
    return tuple(int(dimension) for dimension in output.shape[1:3])


GRID = [(n, k, s) for n, k, s in itertools.product([5, 8, 13], [1, 2, 3, 5], [1, 2, 3]) if k <= n]


@pytest.mark.parametrize(("n", "k", "s"), GRID)
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_output_size_against_keras_layers(n, k, s, padding):
    size = (n, n + 4)  # two input sizes per call
    expected = tuple(conv_output_size(length, k, stride=s, padding=padding) for length in size)
    conv = keras.layers.Conv2D(1, k, strides=s, padding=padding, kernel_initializer="zeros")
    pool = keras.layers.MaxPooling2D(pool_size=k, strides=s, padding=padding)
    assert _keras_output_shape(conv, size) == expected
    assert _keras_output_shape(pool, size) == expected


@pytest.mark.parametrize(
    ("n", "k", "s", "p"), [(32, 5, 2, 1), (7, 3, 1, 1), (10, 4, 3, 2), (6, 7, 2, 1)]
)
def test_output_size_with_explicit_padding(n, k, s, p):
    model = keras.Sequential(
        [
            keras.Input((n, n, 1)),
            keras.layers.ZeroPadding2D(p),
            keras.layers.Conv2D(1, k, strides=s, kernel_initializer="zeros"),
        ]
    )
    assert model.output_shape[1:3] == (conv_output_size(n, k, s, p),) * 2
    assert _keras_output_shape(model, (n, n)) == (conv_output_size(n, k, s, p),) * 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"input_size": 0, "kernel_size": 3}, "input_size"),
        ({"input_size": True, "kernel_size": 3}, "input_size"),
        ({"input_size": 8, "kernel_size": 0}, "kernel_size"),
        ({"input_size": 8, "kernel_size": 2.0}, "kernel_size"),
        ({"input_size": 8, "kernel_size": 3, "stride": 0}, "stride"),
        ({"input_size": 8, "kernel_size": 3, "padding": -1}, "padding"),
        ({"input_size": 8, "kernel_size": 3, "padding": "full"}, "padding"),
        ({"input_size": 3, "kernel_size": 5}, "fit"),
        ({"input_size": 3, "kernel_size": 8, "padding": 2}, "fit"),
    ],
)
def test_output_size_bad_input(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        conv_output_size(**kwargs)


# --------------------------------------------------------------------------- parameter counts


@pytest.mark.parametrize(
    ("in_channels", "filters", "kernel_size", "use_bias"),
    [(3, 4, 3, True), (1, 32, 3, True), (8, 16, 5, True), (256, 64, 1, True), (3, 6, (3, 5), True),
     (64, 128, 3, False), (2, 1, (1, 7), False)],
)  # fmt: skip
def test_params_against_keras(in_channels, filters, kernel_size, use_bias):
    layer = keras.layers.Conv2D(filters, kernel_size, use_bias=use_bias, kernel_initializer="zeros")
    layer.build((None, 16, 16, in_channels))
    assert (
        conv2d_params(in_channels, filters, kernel_size, use_bias=use_bias) == layer.count_params()
    )


def test_params_of_the_lecture_example():
    """4 filters of 3x3 on an RGB image: 4 x (3x3x3 + 1) = 112, as the lecture says."""
    layer = keras.layers.Conv2D(4, 3, kernel_initializer="zeros")
    layer.build((None, 32, 32, 3))
    assert conv2d_params(3, 4, 3) == layer.count_params() == 112


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0, 4, 3), "in_channels"),
        ((3, -1, 3), "filters"),
        ((3, 4, 0), "kernel_size"),
        ((3, 4, (3, 0)), "kernel_size"),
        ((3, 4, (3, 3, 3)), "kernel_size"),
        ((3, 4, "3"), "kernel_size"),
        ((3, 4, 2.5), "kernel_size"),
        ((True, 4, 3), "in_channels"),
    ],
)
def test_params_bad_input(args, match):
    with pytest.raises((TypeError, ValueError), match=match):
        conv2d_params(*args)


# --------------------------------------------------------------------------- receptive field


def _brute_force_receptive_field(kernel_sizes, strides, length=256) -> int:
    """Push a unit impulse at every input position through real strided 1-D convolutions
    (all-ones kernels, so nothing cancels) and measure the span of the positions that reach
    output 0 (with a kernel smaller than its stride, some positions inside it are skipped)."""
    signals = np.eye(length)  # (positions, length): one impulse per row
    for kernel, stride in zip(kernel_sizes, strides):
        signals = np.stack(
            [
                scipy.signal.correlate(row, np.ones(kernel), mode="valid")[::stride]
                for row in signals
            ]
        )
    assert signals.shape[1] >= 1, "input too short for this stack"
    reached = np.flatnonzero(signals[:, 0])
    assert reached[0] == 0  # output 0 starts at input 0 without padding
    return int(reached[-1] - reached[0] + 1)


def test_three_stacked_3x3_see_7_pixels():
    assert receptive_field([3, 3, 3]) == 7 == _brute_force_receptive_field([3, 3, 3], [1, 1, 1])
    assert receptive_field([7]) == 7
    assert receptive_field(3 for _ in range(5)) == 11  # any iterable


@pytest.mark.parametrize(
    ("kernel_sizes", "strides"),
    [
        ([3, 2, 3, 2], [1, 2, 1, 2]),  # conv, pool, conv, pool (VGG-like)
        ([7, 3, 3, 3], [2, 2, 1, 1]),  # ResNet stem then 3x3 convs
        ([5, 5], [3, 1]),
        ([1, 4, 2, 3], [2, 1, 3, 2]),
        ([11, 3, 5, 3, 3], [4, 2, 1, 2, 1]),  # AlexNet-like
    ],
)
def test_receptive_field_with_strides_by_brute_force(kernel_sizes, strides):
    assert receptive_field(kernel_sizes, strides) == _brute_force_receptive_field(
        kernel_sizes, strides
    )


def test_receptive_field_random_stacks_by_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(20):
        depth = int(rng.integers(1, 5))
        kernel_sizes = rng.integers(1, 6, size=depth).tolist()
        strides = rng.integers(1, 4, size=depth).tolist()
        assert receptive_field(kernel_sizes, strides) == _brute_force_receptive_field(
            kernel_sizes, strides
        ), (kernel_sizes, strides)


@pytest.mark.parametrize(
    ("kernel_sizes", "strides", "match"),
    [([], None, "kernel_sizes"), ([3, 3], [1], "stride"), ([3, 0], None, "kernel_sizes"),
     ([3, 3], [1, -2], "strides"), ([3.5], None, "kernel_sizes")],
)  # fmt: skip
def test_receptive_field_bad_input(kernel_sizes, strides, match):
    with pytest.raises((TypeError, ValueError), match=match):
        receptive_field(kernel_sizes, strides)


# --------------------------------------------------------------------------- classic filters


@pytest.mark.parametrize(("size", "sigma"), [(5, 1.0), (3, 0.5), (7, 2.0), (1, 1.0)])
def test_gaussian_kernel(size, sigma):
    kernel = gaussian_kernel(size, sigma)
    assert kernel.shape == (size, size)
    assert kernel.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(kernel, kernel.T)
    np.testing.assert_allclose(kernel, kernel[::-1, ::-1])
    assert kernel.argmax() == (size * size) // 2  # peak in the centre
    window = scipy.signal.windows.gaussian(size, std=sigma)
    np.testing.assert_allclose(kernel, np.outer(window, window) / np.outer(window, window).sum())


@pytest.mark.parametrize(
    ("size", "sigma", "match"),
    [(4, 1.0, "size"), (0, 1.0, "size"), (5, 0.0, "sigma"), (5, -1, "sigma")],
)
def test_gaussian_kernel_bad_input(size, sigma, match):
    with pytest.raises(ValueError, match=match):
        gaussian_kernel(size, sigma)


def test_kirsch_kernels_are_8_compass_rotations():
    kernels = kirsch_kernels()
    assert kernels.shape == (8, 3, 3)
    assert len({kernel.tobytes() for kernel in kernels}) == 8
    np.testing.assert_allclose(kernels.sum(axis=(1, 2)), 0.0)
    np.testing.assert_array_equal(kernels[0], classic_filter("kirsch_n"))
    for quarter in range(4):  # N, E, S, W are quarter turns clockwise; so are NE, SE, SW, NW
        np.testing.assert_array_equal(kernels[2 * quarter], np.rot90(kernels[0], -quarter))
        np.testing.assert_array_equal(kernels[2 * quarter + 1], np.rot90(kernels[1], -quarter))
    # each: three 5s next to each other on the ring, five -3s, 0 in the centre
    for kernel in kernels:
        assert kernel[1, 1] == 0 and sorted(kernel.ravel().tolist()) == [-3] * 5 + [0] + [5] * 3
    assert kernels[1][0, 1] == kernels[1][0, 2] == kernels[1][1, 2] == 5  # NE


def test_kirsch_north_responds_most_to_a_bright_top():
    image = np.zeros((9, 9))
    image[:4] = 1.0  # bright above, dark below: an edge facing north
    responses = [correlate2d(image, kernel)[2, 3] for kernel in kirsch_kernels()]
    assert int(np.argmax(responses)) == 0


def _fit_scale(result, reference) -> float:
    return float(np.vdot(result, reference) / np.vdot(reference, reference))


def test_sobel_matches_scikit_image_and_scipy():
    import skimage.data
    import skimage.filters

    image = skimage.data.camera()[100:200, 150:260].astype(np.float64) / 255.0
    inner = (slice(1, -1), slice(1, -1))
    for ours, theirs, axis in (
        ("sobel_x", skimage.filters.sobel_v, 1),
        ("sobel_y", skimage.filters.sobel_h, 0),
    ):
        result = correlate2d(image, classic_filter(ours), padding="same")[inner]
        reference = theirs(image)[inner]
        scale = _fit_scale(result, reference)
        assert abs(scale) > 0.1  # a real match, not a fit of noise
        np.testing.assert_allclose(result, scale * reference, atol=1e-8)
        np.testing.assert_allclose(result, scipy.ndimage.sobel(image, axis=axis)[inner], atol=1e-12)


def test_other_classic_filters_match_scipy():
    image = _random((20, 17), 8)
    inner = (slice(2, -2), slice(2, -2))

    def same(name):
        return correlate2d(image, classic_filter(name), padding="same")[inner]

    np.testing.assert_allclose(same("mean"), scipy.ndimage.uniform_filter(image, 3)[inner])
    np.testing.assert_allclose(same("laplace"), scipy.ndimage.laplace(image)[inner])
    np.testing.assert_allclose(same("prewitt_x"), scipy.ndimage.prewitt(image, axis=1)[inner])
    np.testing.assert_allclose(same("prewitt_y"), scipy.ndimage.prewitt(image, axis=0)[inner])
    np.testing.assert_allclose(
        same("gaussian"), scipy.ndimage.gaussian_filter(image, 1.0, truncate=2.0)[inner], atol=1e-12
    )
    # the 8-neighbour Laplacian: 3x3 box sum minus 9 x centre
    box = scipy.ndimage.uniform_filter(image, 3) * 9
    np.testing.assert_allclose(same("laplace_8"), (box - 9 * image)[inner], atol=1e-12)


def test_classic_filter_returns_a_copy_and_rejects_unknown_names():
    kernel = classic_filter("sobel_x")
    kernel[:] = 0
    assert classic_filter("sobel_x").any() and convolution.CLASSIC_FILTERS["sobel_x"].any()
    with pytest.raises(ValueError, match="sobel_x"):
        classic_filter("sobel")
    for name, kernel in convolution.CLASSIC_FILTERS.items():
        assert kernel.ndim == 2 and kernel.shape[0] % 2 == 1, name


# --------------------------------------------------------------------------- argument checks (issue 16)


@pytest.mark.parametrize("function", [correlate2d, convolve2d])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_an_empty_kernel_is_refused(function, padding):
    """It used to give an output larger than the image."""
    with pytest.raises(ValueError, match="`kernel`"):
        function(np.ones((4, 4)), np.zeros((0, 0)), padding=padding)
    with pytest.raises(ValueError, match="`image`"):
        function(np.zeros((0, 5)), np.ones((1, 1)), padding=padding)


@pytest.mark.parametrize("function", [correlate2d, convolve2d])
def test_complex_boolean_string_and_non_finite_inputs_are_refused(function):
    """A complex image used to lose its imaginary part without a word."""
    with pytest.raises(TypeError, match="`image`"):
        function(np.ones((4, 4)) + 1j, np.ones((3, 3)))
    with pytest.raises(TypeError, match="`kernel`"):
        function(np.ones((4, 4)), np.ones((3, 3), dtype=bool))
    with pytest.raises(TypeError, match="`image`"):
        function([["a", "b"], ["c", "d"]], np.ones((1, 1)))
    with pytest.raises(ValueError, match="`image`"):
        function(np.full((4, 4), np.nan), np.ones((3, 3)))
    with pytest.raises(ValueError, match="`padding`"):
        function(np.ones((4, 4)), np.ones((3, 3)), padding=None)


@pytest.mark.parametrize("use_bias", ["no", "False", 0, 1, None])
def test_conv2d_params_wants_a_real_boolean_for_use_bias(use_bias):
    """`use_bias='no'` used to count a bias."""
    with pytest.raises(TypeError, match="`use_bias`"):
        conv2d_params(3, 4, 3, use_bias=use_bias)
    assert conv2d_params(3, 4, 3, use_bias=np.bool_(False)) == 108


@pytest.mark.parametrize(
    ("sigma", "error"),
    [(float("nan"), ValueError), (float("inf"), ValueError), (1e-300, ValueError), (1e6, ValueError),
     ("1.0", TypeError), (True, TypeError), (1j, TypeError)],
)  # fmt: skip
def test_gaussian_kernel_refuses_nan_and_absurd_sigma(sigma, error):
    with pytest.raises(error, match="`sigma`"):
        gaussian_kernel(5, sigma)


def test_absurd_sizes_are_refused_at_once():
    with pytest.raises(ValueError, match="`size`"):
        gaussian_kernel(10**6 + 1)
    with pytest.raises(ValueError, match="`input_size`"):
        conv_output_size(10**12, 3)
    with pytest.raises(ValueError, match="`filters`"):
        conv2d_params(3, 10**9, 3)
    with pytest.raises(ValueError, match="`kernel_sizes`"):
        receptive_field([3] * 1_000_001)
    with pytest.raises(ValueError, match="`strides`"):
        receptive_field([3, 3], [1, 10**6])


def test_sizes_accept_numpy_integers_and_refuse_floats_and_strings():
    assert conv_output_size(np.int64(32), np.int32(5), stride=np.int64(1)) == 28
    assert conv2d_params(np.int64(3), 4, (np.int64(3), 3)) == 112
    assert receptive_field(np.array([3, 3, 3])) == 7
    with pytest.raises(TypeError, match="`input_size`"):
        conv_output_size(32.0, 5)
    with pytest.raises(TypeError, match="`kernel_sizes`"):
        receptive_field("333")
    with pytest.raises(TypeError, match="`strides`"):
        receptive_field([3], 2)
    with pytest.raises(ValueError, match="`name`"):
        classic_filter(None)
