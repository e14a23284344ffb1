"""Exercises of the three classic-architecture chapters.

book/05_lenet5.ipynb (ids ``lenet.*``), book/06_alexnet.ipynb (``alexnet.*``) and
book/07_vgg.ipynb (``vgg.*``). Every expected answer is computed here from the
reference arithmetic of :mod:`coursepkg.convolution` and
:func:`coursepkg.models.conv_cost`, or from NumPy, never typed in by hand;
``tests/test_exercises_architectures_classic.py`` checks these references
against Keras layers and models built from :mod:`coursepkg.models`.
"""

from __future__ import annotations

import math

import numpy as np

from coursepkg.checking import compare_function, compare_integer, describe, exercise
from coursepkg.convolution import conv2d_params, conv_output_size, receptive_field

LENET_CHAPTER = "book/05_lenet5.ipynb"
ALEXNET_CHAPTER = "book/06_alexnet.ipynb"
VGG_CHAPTER = "book/07_vgg.ipynb"


def dense_params(inputs: int, units: int) -> int:
    """Parameters of a Dense layer with a bias: a 1x1 convolution on ``inputs`` channels."""
    return conv2d_params(inputs, units, 1)


def conv_connections(output_size: int, in_channels: int, filters: int, kernel_size: int) -> int:
    """Connections of a square 'valid' Conv2D layer for one image, as LeCun et al. count them.

    Every output value is connected to ``k * k * in_channels`` inputs and to its
    bias, so the layer has ``output_size**2`` times as many connections as
    parameters (each weight is shared by every position).
    """
    return output_size * output_size * conv2d_params(in_channels, filters, kernel_size)


def _shape_problems(answer, expected: tuple[int, ...], names: tuple[str, ...]) -> list[str]:
    """Problems with a shape answer; accepts a tuple, list or array, with or without Keras's batch ``None``."""
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    if not isinstance(answer, (tuple, list)):
        return [f"the shape should be a tuple {tuple(names)}; received {describe(answer)}"]
    answer = tuple(answer)
    keras_style = len(answer) == len(expected) + 1 and answer[0] is None  # (None, height, ...)
    if keras_style:
        answer = answer[1:]
    if len(answer) != len(expected):
        return [
            f"the shape should have {len(expected)} entries {tuple(names)}, without the batch "
            f"dimension; received {len(answer)} entries"
        ]
    problems = []
    for name, received, correct in zip(names, answer, expected):
        problems += compare_integer(received, correct, f"the {name}")
    return problems


def _fraction_problems(received, expected: float, what: str, abs_tol: float = 5e-4) -> list[str]:
    """Problems with a fraction in [0, 1]; says too large or too small, never by how much."""
    if isinstance(received, (str, bytes, bool)):
        return [f"{what} should be a number; received {describe(received)}"]
    try:
        value = float(received)
    except (TypeError, ValueError):
        return [f"{what} should be a number; received {describe(received)}"]
    if not math.isfinite(value):
        return [f"{what} should be a finite number; received {value!r}"]
    if 1.0 < value <= 100.0 and math.isclose(value / 100.0, expected, abs_tol=abs_tol):
        return [f"{what} should be a fraction between 0 and 1, not a percentage"]
    if math.isclose(value, expected, abs_tol=abs_tol):
        return []
    return [f"{what}: {value:.4g} is {'too large' if value > expected else 'too small'}"]


# =========================================================================== LeNet-5

LENET_INPUT_SIZE = 32  # side of LeNet-5's input
LENET_KERNEL = 5  # kernel side of C1, C3 and C5
LENET_POOL = 2  # window and stride of S2 and S4
LENET_MAPS = (6, 16, 120)  # feature maps of C1, C3 and C5
BIGGER_INPUT = 64  # side of the larger input of lenet.bigger_input


def lenet_c5_output_shape(input_size: int) -> tuple[int, int, int]:
    """(height, width, channels) of C5's output when LeNet-5 reads a square image of ``input_size``."""
    size = input_size
    for _ in range(2):  # C1 then S2, C3 then S4
        size = conv_output_size(size, LENET_KERNEL)  # 'valid' 5x5 convolution
        size = conv_output_size(size, LENET_POOL, stride=LENET_POOL)  # 2x2 subsampling, stride 2
    size = conv_output_size(size, LENET_KERNEL)  # C5
    return size, size, LENET_MAPS[-1]


def full_c3_connections() -> int:
    """Connections of C3 for one 32x32 image if every C3 map read all six S2 maps."""
    size = conv_output_size(LENET_INPUT_SIZE, LENET_KERNEL)  # C1
    size = conv_output_size(size, LENET_POOL, stride=LENET_POOL)  # S2
    size = conv_output_size(size, LENET_KERNEL)  # C3
    return conv_connections(size, LENET_MAPS[0], LENET_MAPS[1], LENET_KERNEL)


@exercise(
    "lenet.full_c3_connections",
    LENET_CHAPTER,
    hint=(
        "Count the output values of C3 (height x width x maps) and multiply by the number of "
        "inputs each one is connected to: a 5x5 window on every S2 map, plus its bias."
    ),
)
def _full_c3_connections(answer):
    return compare_integer(answer, full_c3_connections(), "the number of connections")


@exercise(
    "lenet.bigger_input",
    LENET_CHAPTER,
    hint=(
        "Follow the side through C1, S2, C3, S4 and C5: a 'valid' 5x5 convolution removes 4 "
        "pixels, a 2x2 subsampling with stride 2 halves the side (rounding down)."
    ),
)
def _bigger_input(answer):
    return _shape_problems(
        answer, lenet_c5_output_shape(BIGGER_INPUT), ("height", "width", "channels")
    )


def rbf_scores(features, prototypes) -> np.ndarray:
    """Reference scores of LeNet-5's output layer: minus the squared Euclidean distances.

    Args:
        features: ``(n, d)`` array, the F6 outputs of ``n`` images.
        prototypes: ``(classes, d)`` array, one prototype per class.

    Returns:
        ``(n, classes)`` array, ``-sum_j (features[i, j] - prototypes[c, j])**2``.
    """
    features = np.asarray(features, dtype=np.float64)
    prototypes = np.asarray(prototypes, dtype=np.float64)
    if features.ndim != 2 or prototypes.ndim != 2 or features.shape[1] != prototypes.shape[1]:
        raise ValueError(
            "Expected `features` (n, d) and `prototypes` (classes, d) with the same d. "
            f"Received: features.shape={features.shape}, prototypes.shape={prototypes.shape}"
        )
    differences = features[:, np.newaxis, :] - prototypes[np.newaxis, :, :]  # (n, classes, d)
    return -np.sum(differences**2, axis=-1)


def _rbf_cases(seed: int = 0):
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(10, 84))  # +1/-1 prototypes, as in the paper
    return [
        (
            (rng.uniform(-1.7, 1.7, size=(4, 84)), signs),
            "4 feature vectors of 84 values and 10 +1/-1 prototypes",
        ),
        ((rng.normal(size=(1, 84)), signs), "a single feature vector (n = 1)"),
        (
            (rng.normal(size=(3, 5)), rng.normal(size=(2, 5))),
            "3 vectors of 5 values and 2 prototypes (n != classes)",
        ),
        (
            (rng.normal(size=(6, 3)), rng.normal(size=(7, 3))),
            "6 vectors of 3 values and 7 prototypes",
        ),
    ]


@exercise(
    "lenet.rbf_scores",
    LENET_CHAPTER,
    hint=(
        "Broadcast features[:, None, :] against prototypes[None, :, :] to get every difference, "
        "square, sum over the last axis, and return minus that: shape (n, classes)."
    ),
)
def _rbf_scores(answer):
    return compare_function(answer, rbf_scores, _rbf_cases(), "your rbf_scores")


# =========================================================================== AlexNet

# The lecture's AlexNet, as (kind, filters or units, kernel, stride, padding); see coursepkg.models.alexnet.
ALEXNET_LAYERS = (
    ("conv", 96, 11, 4, "valid"),
    ("pool", None, 3, 2, "valid"),
    ("conv", 256, 5, 1, "same"),
    ("pool", None, 3, 2, "valid"),
    ("conv", 384, 3, 1, "same"),
    ("conv", 384, 3, 1, "same"),
    ("conv", 256, 3, 1, "same"),
    ("pool", None, 3, 2, "valid"),
)
ALEXNET_FC6_UNITS = 4096  # units of the first dense layer
PAPER_INPUT = 224  # the input side the paper states
LARGER_INPUT = 320  # the input side of alexnet.fc6_at_320
GROUPS = 2  # the paper's two GPUs: conv2, conv4 and conv5 see only the maps on their own GPU


def alexnet_pool5_shape(input_size: int) -> tuple[int, int, int]:
    """(height, width, channels) of AlexNet's last pooling output for a square input."""
    size, channels = input_size, None
    for kind, filters, kernel, stride, padding in ALEXNET_LAYERS:
        size = conv_output_size(size, kernel, stride=stride, padding=padding)
        if kind == "conv":
            channels = filters
    return size, size, channels


def alexnet_fc6_params(input_size: int) -> int:
    """Parameters of fc6 (Flatten, then Dense(4096)) for a square input of ``input_size``."""
    height, width, channels = alexnet_pool5_shape(input_size)
    return dense_params(height * width * channels, ALEXNET_FC6_UNITS)


def grouped_conv4_params() -> int:
    """Parameters of conv4 split over two GPUs: each filter reads half of conv3's maps."""
    conv3_filters, conv4_filters, kernel = (
        ALEXNET_LAYERS[4][1],
        ALEXNET_LAYERS[5][1],
        ALEXNET_LAYERS[5][2],
    )
    return conv2d_params(conv3_filters // GROUPS, conv4_filters, kernel)


@exercise(
    "alexnet.conv1_224",
    ALEXNET_CHAPTER,
    hint="Use floor((n + 2p - k) / s) + 1 with the input side the paper states, conv1's kernel and stride, and no padding.",
)
def _conv1_224(answer):
    expected = conv_output_size(PAPER_INPUT, ALEXNET_LAYERS[0][2], stride=ALEXNET_LAYERS[0][3])
    return compare_integer(answer, expected, "the output side")


@exercise(
    "alexnet.fc6_at_320",
    ALEXNET_CHAPTER,
    hint=(
        "Follow the side through conv1 (11x11, stride 4, 'valid'), the three 3x3 stride-2 "
        "poolings and the 'same' convolutions (which keep it); Flatten gives side x side x 256 "
        "inputs, and a Dense layer has (inputs + 1) x units parameters."
    ),
)
def _fc6_at_320(answer):
    return compare_integer(
        answer, alexnet_fc6_params(LARGER_INPUT), "the number of parameters of fc6"
    )


@exercise(
    "alexnet.grouped_conv4",
    ALEXNET_CHAPTER,
    hint=(
        "With two groups, each of conv4's filters still has a 3x3 kernel and a bias, but it only "
        "reads the maps of conv3 that sit on its own GPU."
    ),
)
def _grouped_conv4(answer):
    return compare_integer(answer, grouped_conv4_params(), "the number of parameters of conv4")


# =========================================================================== VGG

CIFAR_INPUT = (32, 32, 3)  # (height, width, channels) of the VGG of vgg.cifar_dense_share
CIFAR_DENSE_UNITS = 512  # width of fc1 and fc2 in that network
CIFAR_CLASSES = 10
IMAGENET_SIDE = 224  # side of VGG's ImageNet input


def vgg_kernels_and_strides(block_depths) -> tuple[list[int], list[int]]:
    """Kernel sizes and strides of a VGG's layers in order: 3x3 convolutions, 2x2 poolings."""
    kernels, strides = [], []
    for depth in block_depths:
        kernels += [3] * depth + [2]  # the block's 3x3 convolutions (stride 1), then its pooling
        strides += [1] * depth + [2]
    return kernels, strides


def vgg19_last_conv_receptive_field() -> int:
    """Receptive field of block5_conv4, VGG19's last convolution, in input pixels."""
    from coursepkg.models.vgg import VGG19_DEPTHS

    kernels, strides = vgg_kernels_and_strides(VGG19_DEPTHS)
    return receptive_field(
        kernels[:-1], strides[:-1]
    )  # everything up to, not including, block5_pool


def cifar_vgg16_dense_share() -> float:
    """Share of the parameters in the three dense layers of VGG16 built for 32x32 CIFAR-10 images."""
    from coursepkg.models.vgg import VGG16_DEPTHS, VGG_FILTERS

    height, width, channels = CIFAR_INPUT
    conv_total = 0
    for depth, filters in zip(VGG16_DEPTHS, VGG_FILTERS):
        for _ in range(depth):
            conv_total += conv2d_params(channels, filters, 3)  # 'same' padding keeps the size
            channels = filters
        height = conv_output_size(height, 2, stride=2)
        width = conv_output_size(width, 2, stride=2)
    dense_total = (
        dense_params(height * width * channels, CIFAR_DENSE_UNITS)
        + dense_params(CIFAR_DENSE_UNITS, CIFAR_DENSE_UNITS)
        + dense_params(CIFAR_DENSE_UNITS, CIFAR_CLASSES)
    )
    return dense_total / (conv_total + dense_total)


def block1_conv2_multiplications() -> int:
    """Multiplications of VGG16's block1_conv2 on one 224x224 image."""
    from coursepkg.models import conv_cost
    from coursepkg.models.vgg import VGG_FILTERS

    channels = VGG_FILTERS[0]
    return conv_cost((IMAGENET_SIDE, IMAGENET_SIDE, channels), channels, 3).multiplications


@exercise(
    "vgg.receptive_field",
    VGG_CHAPTER,
    hint=(
        "Go layer by layer with r = r + (k - 1) x jump, where jump is the product of the strides "
        "before the layer: each 3x3 convolution adds 2 x jump, each 2x2 pooling adds jump and "
        "then doubles it."
    ),
)
def _receptive_field(answer):
    return compare_integer(answer, vgg19_last_conv_receptive_field(), "the receptive field")


@exercise(
    "vgg.cifar_dense_share",
    VGG_CHAPTER,
    hint=(
        "The convolutions have the same parameters whatever the image size; only fc1 changes. "
        "After five 2x2 poolings, how large are the last feature maps of a 32x32 image?"
    ),
)
def _cifar_dense_share(answer):
    return _fraction_problems(answer, cifar_vgg16_dense_share(), "the share of the dense layers")


@exercise(
    "vgg.block1_multiplications",
    VGG_CHAPTER,
    hint=(
        "Each output value of a 3x3 convolution costs 3 x 3 x (input channels) multiplications; "
        "with 'same' padding there are 224 x 224 x (filters) output values."
    ),
)
def _block1_multiplications(answer):
    return compare_integer(answer, block1_conv2_multiplications(), "the number of multiplications")
