"""Exercises of book/02_layers_and_shapes.ipynb.

Every expected answer is computed here from the reference arithmetic of
:mod:`coursepkg.convolution` (and a NumPy max pooling), never typed in by hand;
``tests/test_exercises_layers.py`` checks these references against Keras itself.
"""

from __future__ import annotations

import numpy as np

from coursepkg.checking import compare_function, compare_integer, describe, exercise
from coursepkg.convolution import conv2d_params, conv_output_size

CHAPTER = "book/02_layers_and_shapes.ipynb"


# --------------------------------------------------------------------------- layers.output_shape

# The stack of the exercise, as (kind, settings); the notebook states the same stack in Keras.
SHAPE_INPUT = (64, 64, 3)  # (height, width, channels)
SHAPE_STACK = (
    ("conv", {"filters": 16, "kernel_size": 3, "strides": 1, "padding": "valid"}),
    ("pool", {"pool_size": 2, "strides": 2, "padding": "valid"}),
    ("conv", {"filters": 32, "kernel_size": 3, "strides": 2, "padding": "same"}),
    ("pool", {"pool_size": 3, "strides": 2, "padding": "valid"}),
)


def stack_output_shape(input_shape, stack) -> tuple[int, int, int]:
    """Output (height, width, channels) of a stack of Conv2D and pooling layers.

    Args:
        input_shape: ``(height, width, channels)`` of the input.
        stack: sequence of ``("conv", {filters, kernel_size, strides, padding})``
            and ``("pool", {pool_size, strides, padding})`` entries.

    Returns:
        The output shape, without the batch dimension.
    """
    height, width, channels = input_shape
    for kind, settings in stack:
        if kind == "conv":
            size, channels = settings["kernel_size"], settings["filters"]
        elif kind == "pool":
            size = settings["pool_size"]
        else:
            raise ValueError(f"Expected each layer kind to be 'conv' or 'pool'. Received: kind={kind!r}")
        height = conv_output_size(height, size, settings["strides"], settings["padding"])
        width = conv_output_size(width, size, settings["strides"], settings["padding"])
    return height, width, channels


@exercise(
    "layers.output_shape",
    CHAPTER,
    hint=(
        "Go layer by layer with floor((n + 2p - k) / s) + 1 for 'valid' and ceil(n / s) for "
        "'same'; pooling keeps the channels, a convolution sets them to its number of filters."
    ),
)
def _output_shape(answer):
    expected = stack_output_shape(SHAPE_INPUT, SHAPE_STACK)
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    if not isinstance(answer, (tuple, list)):
        return [f"the shape should be a tuple (height, width, channels); received {describe(answer)}"]
    answer = tuple(answer)
    if len(answer) == 4 and answer[0] is None:  # Keras's (None, height, width, channels)
        answer = answer[1:]
    if len(answer) != 3:
        return [
            f"the shape should have 3 entries (height, width, channels), without the batch "
            f"dimension; received {len(answer)} entries"
        ]
    problems = []
    for name, received, correct in zip(("height", "width", "channels"), answer, expected):
        problems += compare_integer(received, correct, f"the {name}")
    return problems


# --------------------------------------------------------------------------- layers.param_count

PARAM_INPUT = (28, 28, 1)  # (height, width, channels)
PARAM_CONVS = ((8, 3), (16, 3))  # (filters, kernel size) of the two 'valid' convolutions
PARAM_POOL = 2  # each convolution is followed by MaxPooling2D(2)
PARAM_CLASSES = 10  # units of the final Dense layer


def dense_params(inputs: int, units: int, use_bias: bool = True) -> int:
    """Parameters of a Dense layer: a weight per (input, unit) pair and a bias per unit.

    A dense layer on a flat vector is a 1x1 convolution on a 1x1 image with
    ``inputs`` channels, so this is ``conv2d_params(inputs, units, 1)``.
    """
    return conv2d_params(inputs, units, 1, use_bias=use_bias)


def small_network_params() -> int:
    """Parameters of the network of ``layers.param_count``, from the conv arithmetic."""
    height, width, channels = PARAM_INPUT
    total = 0
    for filters, kernel_size in PARAM_CONVS:
        total += conv2d_params(channels, filters, kernel_size)
        height = conv_output_size(conv_output_size(height, kernel_size), PARAM_POOL, PARAM_POOL)
        width = conv_output_size(conv_output_size(width, kernel_size), PARAM_POOL, PARAM_POOL)
        channels = filters
    return total + dense_params(height * width * channels, PARAM_CLASSES)


@exercise(
    "layers.param_count",
    CHAPTER,
    hint=(
        "Only the two Conv2D layers and the Dense layer have parameters. A Conv2D layer has "
        "filters x (k x k x input channels + 1); for the Dense layer you need the length of the "
        "flattened vector, so follow the height and width through every layer first."
    ),
)
def _param_count(answer):
    return compare_integer(answer, small_network_params(), "the number of parameters")


# --------------------------------------------------------------------------- layers.gap_savings

GAP_FEATURES = (7, 7, 512)  # (height, width, channels) of the last feature map
GAP_CLASSES = 10  # units of the classifier


def gap_savings() -> int:
    """Parameters saved by GlobalAveragePooling2D + Dense instead of Flatten + Dense."""
    height, width, channels = GAP_FEATURES
    flatten_dense = dense_params(height * width * channels, GAP_CLASSES)
    global_pool_dense = dense_params(channels, GAP_CLASSES)
    return flatten_dense - global_pool_dense


@exercise(
    "layers.gap_savings",
    CHAPTER,
    hint=(
        "Flatten gives a vector of height x width x channels values, global average pooling one "
        "of `channels` values; a Dense layer has (inputs + 1) x units parameters. Subtract."
    ),
)
def _gap_savings(answer):
    return compare_integer(answer, gap_savings(), "the number of parameters saved")


# --------------------------------------------------------------------------- layers.max_pool


def max_pool_2x2(image) -> np.ndarray:
    """Reference 2x2 max pooling with stride 2 and 'valid' padding on a 2-D array.

    An odd last row or column has no complete window and is dropped, as in
    ``keras.layers.MaxPooling2D(2)``.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or min(image.shape) < 2:
        raise ValueError(
            f"Expected `image` to be a 2-D array of at least 2x2. Received: image.shape={image.shape}"
        )
    height, width = image.shape[0] // 2, image.shape[1] // 2
    blocks = image[: 2 * height, : 2 * width].reshape(height, 2, width, 2)  # (row, 2, col, 2)
    return blocks.max(axis=(1, 3))


def _pooling_cases(seed: int = 0):
    rng = np.random.default_rng(seed)
    return [
        ((rng.normal(size=(4, 4)),), "a 4x4 image"),
        ((rng.normal(size=(6, 10)),), "a 6x10 (non-square) image"),
        ((rng.normal(size=(5, 7)),), "a 5x7 image (odd height and width)"),
        ((rng.normal(size=(3, 3)),), "a 3x3 image (one complete window)"),
        ((-rng.uniform(1.0, 2.0, size=(4, 6)),), "a 4x6 image whose values are all negative"),
    ]


@exercise(
    "layers.max_pool",
    CHAPTER,
    hint=(
        "The output has shape (height // 2, width // 2); out[i, j] is the maximum of "
        "image[2i:2i+2, 2j:2j+2]. Drop an odd last row or column, and do not start the "
        "maximum from 0 (values can be negative)."
    ),
)
def _max_pool(answer):
    return compare_function(answer, max_pool_2x2, _pooling_cases(), "your max_pool_2x2")
